"""What a VM's SPICE display costs beside its VNC one: the QEMU process's memory once the
demo guest has booted, with both displays (VirtStick's default) against VNC alone (the
baseline), the domains written by our own ``DomainSpec``.

Resident memory includes the SPICE server's libraries, shared by every VM's QEMU; the
anonymous memory is each VM's own.
"""

from __future__ import annotations

import secrets
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import libvirt

from appliance.config import VirtType
from appliance.demoguest import build
from appliance.demoguest.console import GuestConsole
from appliance.demoguest.domain import create_overlay
from appliance.vdsm import domxml
from tests.bench import Figure

ROUNDS = 2
READY = r"^VIRTSTICK-GUEST-READY"
SETTLE_SECONDS = 10  # after the guest says it is ready: the displays have drawn its screen
REPO = Path(__file__).resolve().parents[2]


def _memory_kib(pid: int) -> dict[str, int]:
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "kB":
            found[parts[0].rstrip(":")] = int(parts[1])
    return found


def _measure(conn: libvirt.virConnect, base: Path, directory: Path,
             graphics: tuple[str, ...]) -> dict[str, int]:
    run = directory / secrets.token_hex(4)
    run.mkdir(mode=0o711)
    overlay = run / "disk.qcow2"
    create_overlay(base=base, overlay=overlay)
    overlay.chmod(0o644)
    name = f"bench-displays-{secrets.token_hex(3)}"
    spec = domxml.DomainSpec(
        uuid=str(uuid.uuid4()), name=name, memory=256 * 2**20, vcpus=1,
        virt_type=VirtType.QEMU, appliance_id="bench",
        disks=(domxml.DiskDevice(path=overlay, target="vda", boot_order=1),),
        graphics=tuple(domxml.GraphicsDevice(type=g, password="b3nch") for g in graphics),
        serial=domxml.SerialConsole(socket=run / "serial.sock", log=run / "serial.log"))
    domain = conn.createXML(spec.to_xml(), 0)
    console = GuestConsole(run / "serial.sock", run / "serial.log")
    try:
        console.wait_for(READY, 180)
        time.sleep(SETTLE_SECONDS)
        pid = int(Path(f"/run/libvirt/qemu/{name}.pid").read_text())
        return _memory_kib(pid)
    finally:
        console.close()
        domain.destroy()


def run() -> list[Figure]:
    guest = build(REPO / ".cache" / "demoguest")
    directory = Path(tempfile.mkdtemp(prefix="virtstick-bench-displays-"))
    directory.chmod(0o711)
    conn = libvirt.open("qemu:///system")
    samples: dict[tuple[str, ...], list[dict[str, int]]] = {("vnc",): [], ("vnc", "spice"): []}
    try:
        for _ in range(ROUNDS):
            for graphics in samples:
                samples[graphics].append(_measure(conn, guest.disk, directory, graphics))
    finally:
        conn.close()
        shutil.rmtree(directory, ignore_errors=True)

    def median(graphics: tuple[str, ...], key: str) -> float:
        return statistics.median(s[key] for s in samples[graphics]) / 1024

    figures = []
    for key, label in (("Rss", "resident"), ("Anonymous", "anonymous")):
        both, vnc = median(("vnc", "spice"), key), median(("vnc",), key)
        figures.append(Figure(f"QEMU {label} memory, VNC and SPICE", both, "MiB",
                              baseline=vnc))
        figures.append(Figure(f"SPICE display's {label} cost per VM", both - vnc, "MiB"))
    return figures
