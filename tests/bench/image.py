"""The live image: its size, first and cached build times, and boot times under QEMU TCG.

Builds twice into a fresh cache (cold, then cached: the ratio is what the cache saves), then
boots the ISO as a USB stick with BIOS and UEFI to the API answering, against the baseline of
the same image booted to its login prompt with our services masked (what we add to boot).
``VIRTSTICK_BENCH_ISO=path`` skips the builds and measures only the boots of that ISO.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from pathlib import Path

from image.build import build
from image.distro import DistroName
from image.iso import INITRD, KERNEL, kernel_args
from image.options import VOLUME_ID, BuildOptions
from tests.bench import Figure
from tests.image.live_machine import Firmware, LiveMachine, make_seed_stick
from tests.image.test_live_image import SEED

MASKED = "systemd.mask=virtstick.service systemd.mask=virtstick-firstboot.service"
TIMEOUT = 1200


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="virtstick-bench-") as scratch:
        work = Path(scratch)
        figures: list[Figure] = []
        given = os.environ.get("VIRTSTICK_BENCH_ISO")
        iso = Path(given) if given else _build_twice(work, figures)
        figures.append(Figure("ISO size", iso.stat().st_size / 1e6, "MB", target="< 700 MB"))
        figures.extend(_boots(iso, work))
        return figures


def _build_twice(work: Path, figures: list[Figure]) -> Path:
    options = BuildOptions(
        distro=DistroName.DEBIAN, output_dir=work / "out", cache_dir=work / "cache"
    )
    cold = build(options, out=io.StringIO())
    cached = build(options, out=io.StringIO())
    cold_s, cached_s = sum(cold.timings.values()), sum(cached.timings.values())
    figures.append(Figure("first build (empty cache)", cold_s, "s"))
    figures.append(Figure("rebuild (cached)", cached_s, "s", baseline=cold_s))
    return cached.outputs.iso


def _boots(iso: Path, work: Path) -> list[Figure]:
    boot_files = _extract_boot_files(iso, work / "boot")
    cmdline = f"{kernel_args(VOLUME_ID)} {MASKED}"
    baseline = LiveMachine(
        iso=iso,
        firmware=Firmware.BIOS,
        work_dir=work / "masked",
        kernel=(boot_files / KERNEL, boot_files / INITRD, cmdline),
    )
    login = _measure(baseline, lambda m: m.wait_serial("login:", timeout=TIMEOUT))
    figures = [Figure("boot to login, our services masked (baseline)", login, "s")]
    seed = make_seed_stick(SEED, work / "seed-stick.img")
    for firmware in (Firmware.BIOS, Firmware.UEFI):
        machine = LiveMachine(
            iso=iso, firmware=firmware, work_dir=work / firmware.value, seed_stick=seed
        )
        seconds = _measure(machine, lambda m: m.wait_http("http", "/health", timeout=TIMEOUT)[0])
        name = f"boot to API answering (seed on a second USB stick), {firmware.value.upper()}"
        figures.append(Figure(name, seconds, "s", baseline=login))
    return figures


def _measure(machine: LiveMachine, wait: object) -> float:
    machine.start()
    try:
        return float(wait(machine))  # type: ignore[operator]
    finally:
        machine.stop()


def _extract_boot_files(iso: Path, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for relative in (KERNEL, INITRD):
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["xorriso", "-osirrox", "on", "-indev", iso, "-extract", f"/{relative}",
             dest / relative],
            check=True,
            capture_output=True,
        )  # fmt: skip
    return dest
