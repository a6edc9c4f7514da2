"""Demo guest: boot-to-ready time under TCG, and a cached build against a first build.

Baselines from the same run: the same kernel and initramfs booted directly by QEMU
(libvirt <kernel>/<initrd>, no BIOS disk boot, no syslinux) for the boot figure, and a
first build into an empty cache (apt-get download included) for the cached build.
"""

from __future__ import annotations

import os
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import libvirt

from appliance.demoguest import DemoGuest, build
from appliance.demoguest.console import GuestConsole
from appliance.demoguest.disk import KERNEL_COMMAND_LINE, LAYOUT
from appliance.demoguest.domain import GuestFiles, create_overlay, domain_xml
from tests.bench import Figure

BOOTS = 3
READY = r"^VIRTSTICK-GUEST-READY"


@contextmanager
def _qemu_reachable_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="virtstick-bench-demoguest-"))
    directory.chmod(0o711)  # QEMU (libvirt-qemu) opens the overlay itself
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _timed_build(cache: Path) -> tuple[DemoGuest, float]:
    started = time.monotonic()
    guest = build(cache)
    return guest, time.monotonic() - started


def _extract_boot_files(guest: DemoGuest, directory: Path) -> tuple[Path, Path]:
    """The kernel and initramfs from the disk's FAT partition, for the direct-boot baseline."""
    raw = directory / "disk.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", guest.disk, raw], check=True)
    image = f"{raw}@@{LAYOUT.boot_offset}"
    kernel, initrd = directory / "vmlinuz", directory / "initrd.img"
    for name, target in (("vmlinuz", kernel), ("initrd.img", initrd)):
        subprocess.run(["mcopy", "-n", "-i", image, f"::/{name}", target], check=True)
        target.chmod(0o644)
    raw.unlink()
    return kernel, initrd


def _boot_seconds(conn: libvirt.virConnect, xml: str, files: GuestFiles) -> float:
    started = time.monotonic()
    domain = conn.createXML(xml, 0)
    console = GuestConsole(files.serial_socket, files.serial_log)
    try:
        console.wait_for(READY, 120)
        return time.monotonic() - started
    finally:
        console.close()
        domain.destroy()


def _boot_once(
    conn: libvirt.virConnect, guest: DemoGuest, directory: Path, direct: tuple[Path, Path] | None
) -> float:
    run_dir = directory / secrets.token_hex(4)
    run_dir.mkdir(mode=0o711)
    files = GuestFiles.in_directory(run_dir)
    create_overlay(base=guest.disk, overlay=files.overlay)
    xml = domain_xml(name=f"bench-demoguest-{run_dir.name}", files=files)
    if direct is not None:
        kernel, initrd = direct
        xml = xml.replace(
            "<boot dev='hd'/>",
            f"<kernel>{kernel}</kernel><initrd>{initrd}</initrd>"
            f"<cmdline>{KERNEL_COMMAND_LINE}</cmdline>",
        )
    return _boot_seconds(conn, xml, files)


def _median_boots(
    conn: libvirt.virConnect, guest: DemoGuest, directory: Path, direct: tuple[Path, Path]
) -> tuple[float, float]:
    """Median (direct, disk) boot times; alternated so the shared machine's load swings
    hit both alike."""
    direct_s, disk_s = [], []
    for _ in range(BOOTS):
        direct_s.append(_boot_once(conn, guest, directory, direct))
        disk_s.append(_boot_once(conn, guest, directory, None))
    return statistics.median(direct_s), statistics.median(disk_s)


def run() -> list[Figure]:
    load = os.getloadavg()[0]  # TCG boot times scale with how busy the shared machine is
    with _qemu_reachable_dir() as directory:
        cache = directory / "cache"
        guest, first = _timed_build(cache)
        again, cached = _timed_build(cache)
        assert guest.built and not again.built, "the second build did not come from the cache"
        direct = _extract_boot_files(guest, directory)
        libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
        conn = libvirt.open("qemu:///system")
        try:
            direct_boot, disk_boot = _median_boots(conn, guest, directory, direct)
        finally:
            conn.close()
    return [
        Figure("host load average (1 min) at start", load, "runnable"),
        Figure("first build (empty cache, apt-get download)", first, "s"),
        Figure("cached build", cached, "s", baseline=first, target="< 1 s"),
        Figure("first build / cached build", first / max(cached, 1e-6), "x", target="> 10x"),
        Figure("direct kernel boot to ready (median of 3)", direct_boot, "s"),
        Figure(
            "disk boot to ready, SeaBIOS + syslinux (median of 3)",
            disk_boot, "s", baseline=direct_boot, target="< 10 s under TCG",
        ),  # fmt: skip
    ]
