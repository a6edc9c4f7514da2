"""The live image: its size, first and cached build times, and boot times under QEMU TCG.

Builds twice into a fresh cache (cold, then cached: the ratio is what the cache saves), then
boots the ISO as a USB stick with BIOS and UEFI to the API answering, against the login prompt
of the same boot (the serial getty waits for none of our services), and the same image booted
to its login prompt with our services masked as a reference (what we add to the boot).
``VIRTSTICK_BENCH_ISO=path`` skips the builds and measures only the boots of that ISO.

Under emulation on two cores one boot's figures swing by 10-20 s from the next, so each
firmware boots ``BENCH_BOOTS`` times (3) and the figures are those of the boot whose ratio is
the median, with every boot's ratio beside them.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from image.build import build
from image.distro import DistroName
from image.iso import INITRD, KERNEL, kernel_args
from image.options import VOLUME_ID, BuildOptions
from tests.bench import Figure
from tests.image.live_machine import Firmware, LiveMachine, make_seed_stick
from tests.image.test_live_image import SEED

MASKED = "systemd.mask=virtstick.service systemd.mask=virtstick-firstboot.service"
TIMEOUT = 1200
BOOTS = int(os.environ.get("BENCH_BOOTS", "3"))
_T = TypeVar("_T")


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
    figures = [Figure("boot to login, our services masked (reference)", login, "s")]
    seed = make_seed_stick(SEED, work / "seed-stick.img")
    for firmware in (Firmware.BIOS, Firmware.UEFI):
        (prompt, api), ratios = _median_boot(iso, firmware, work, seed)
        name = firmware.value.upper()
        every = ", ".join(f"{ratio:.2f}x" for ratio in ratios)
        figures.append(Figure(f"boot to login, {name}", prompt, "s", baseline=login))
        figures.append(Figure(f"boot to API answering (seed on a second USB stick), {name}, "
                              f"the median of {BOOTS} boots ({every})",
                              api, "s", baseline=prompt, target="<= 1.15x"))  # fmt: skip
    return figures


def _median_boot(
    iso: Path, firmware: Firmware, work: Path, seed: Path
) -> tuple[tuple[float, float], list[float]]:
    """Login and API seconds of the boot whose ratio is the median, and every ratio."""
    boots = []
    for index in range(BOOTS):
        machine = LiveMachine(iso=iso, firmware=firmware, seed_stick=seed,
                              work_dir=work / f"{firmware.value}-{index}")  # fmt: skip
        boots.append(_measure(machine, _login_and_api))
    boots.sort(key=_ratio)
    return boots[len(boots) // 2], [_ratio(boot) for boot in boots]


def _ratio(boot: tuple[float, float]) -> float:
    prompt, api = boot
    return api / prompt


def _measure(machine: LiveMachine, wait: Callable[[LiveMachine], _T]) -> _T:
    machine.start()
    try:
        return wait(machine)
    finally:
        machine.stop()


def _login_and_api(machine: LiveMachine) -> tuple[float, float]:
    """Seconds to the serial login prompt and to /health answering, in the same boot: the
    serial getty does not wait for our services, so the prompt is the boot's own pace
    (firmware and all) and the API's is measured against it."""
    prompt = api = 0.0
    while not (prompt and api):
        if machine.elapsed() > TIMEOUT:
            raise TimeoutError(f"no {'API' if prompt else 'login prompt'} after {TIMEOUT} s")
        if not prompt and "login:" in machine.serial():
            prompt = machine.elapsed()
        if not api and _answers(machine):
            api = machine.elapsed()
        time.sleep(0.5)
    return prompt, api


def _answers(machine: LiveMachine) -> bool:
    """The service's own /health (the wizard's setup page, on the same port while it asks,
    answers too, but not this)."""
    for (_, port), local in machine.forwards.items():
        if port != 80:
            continue
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/health", timeout=2) as got:
                if json.loads(got.read()).get("status") == "ok":
                    return True
        except (OSError, ValueError):
            continue
    return False


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
