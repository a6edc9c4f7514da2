"""Facts about the host the agent runs on, and the choice between KVM and TCG."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import libvirt

from appliance.config import VirtType
from appliance.vdsm import kvmprobe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    memory: int  # bytes
    cpus: int
    cpu_model: str
    virt_type: VirtType  # kvm or qemu
    libvirt_version: str
    uuid: str


def facts(conn: libvirt.virConnect, *, virt_type: VirtType) -> HostFacts:
    model, memory_mib, cpus, *_ = conn.getInfo()
    major, rest = divmod(conn.getLibVersion(), 1_000_000)
    minor, micro = divmod(rest, 1000)
    sysinfo_uuid = ""
    try:
        match = re.search(r"<uuid>([^<]+)</uuid>", conn.getCapabilities())
        sysinfo_uuid = match.group(1) if match else ""
    except libvirt.libvirtError:
        pass
    return HostFacts(
        hostname=_hostname(conn),
        memory=memory_mib * 1024 * 1024,
        cpus=cpus,
        cpu_model=model,
        virt_type=virt_type,
        libvirt_version=f"{major}.{minor}.{micro}",
        uuid=sysinfo_uuid,
    )


def _hostname(conn: libvirt.virConnect) -> str:
    """The name of the host libvirtd runs on (a lab host's own, in its UTS namespace)."""
    try:
        return str(conn.getHostname())
    except libvirt.libvirtError:
        return socket.gethostname()


def choose_virt_type(wanted: VirtType, *, cache_dir: Path,
                     probe_disk: Path | None) -> VirtType:
    """KVM when it really runs guests here, else TCG (``qemu``).

    The cheap check runs one instruction in a KVM vCPU; where a guest disk is at hand (the
    demo guest on the stick) a real boot under KVM must also reach its ready line, because
    on some nested setups vCPUs run but Linux guests hang. The verdict is kept per boot.
    """
    if wanted is not VirtType.AUTO:
        return wanted
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    cache = cache_dir / "virt-type.json"
    try:
        cached = json.loads(cache.read_text())
        if cached.get("boot_id") == boot_id:
            return VirtType(cached["virt_type"])
    except (OSError, ValueError, KeyError):
        pass
    log.info("checking whether KVM runs guests here (up to 30 s, once per boot)")
    works = kvmprobe.kvm_works() and (probe_disk is None or _guest_boots_under_kvm(probe_disk))
    chosen = VirtType.KVM if works else VirtType.QEMU
    log.info("virtualization: %s", "KVM" if works else "TCG (KVM is not usable here)")
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"boot_id": boot_id, "virt_type": chosen.value}))
    return chosen


def _guest_boots_under_kvm(disk: Path, timeout: float = 30.0) -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        serial = Path(tmp) / "serial.log"
        process = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "kvm", "-nodefaults", "-display", "none",
             "-m", "256", "-snapshot", "-drive", f"file={disk},if=virtio",
             "-serial", f"file:{serial}", "-no-reboot"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and process.poll() is None:
                if serial.exists() and b"VIRTSTICK-GUEST-READY" in serial.read_bytes():
                    return True
                time.sleep(0.5)
            return False
        finally:
            process.kill()
            process.wait()
