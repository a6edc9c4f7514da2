"""diskimage-builder: our elements on the chosen base, out as one tar of the root filesystem.

DIB's own squashfs output is xz and its ``iso`` element is neither live nor hybrid, so DIB stops
at the tar and ``image.rootfs`` and ``image.iso`` take it from there.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from image.distro import DistroPlan
from image.isolation import with_private_dev
from image.steps import StepLog

LIVE_ELEMENTS = ("virtstick-live", "virtstick-appliance")
DEMO_ELEMENT = "virtstick-demo"


@dataclass(frozen=True)
class DibInputs:
    plan: DistroPlan
    elements_dir: Path
    image_cache: Path  # debootstrap tarball and apt archives, kept between builds
    wheelhouse: Path
    seed: Path | None
    demo_disk: Path | None


def elements(inputs: DibInputs) -> list[str]:
    names = [*inputs.plan.elements, *LIVE_ELEMENTS]
    if inputs.demo_disk is not None:
        names.append(DEMO_ELEMENT)
    return names


def environment(inputs: DibInputs) -> dict[str, str]:
    """The process environment for disk-image-create: DIB only passes ``DIB_*`` to phases."""
    env = dict(os.environ)
    env.update(inputs.plan.environment)
    env.update(
        {
            "ELEMENTS_PATH": str(inputs.elements_dir),
            "DIB_IMAGE_CACHE": str(inputs.image_cache),
            "DIB_VIRTSTICK_WHEELHOUSE": str(inputs.wheelhouse),
            "DIB_VIRTSTICK_SEED": str(inputs.seed or ""),
            "DIB_VIRTSTICK_DEMO_DISK": str(inputs.demo_disk or ""),
        }
    )
    return env


def build_root_tar(log: StepLog, inputs: DibInputs, *, work_dir: Path) -> Path:
    """Run disk-image-create; returns the tar of the finished root filesystem."""
    work_dir.mkdir(parents=True, exist_ok=True)
    inputs.image_cache.mkdir(parents=True, exist_ok=True)
    stem = work_dir / "root"
    tar = stem.with_suffix(".tar")
    tar.unlink(missing_ok=True)
    dib = Path(sys.executable).parent / "disk-image-create"
    log.run(
        with_private_dev([
            dib, "--no-tmpfs", "-n", "-a", "amd64", "-t", "tar", "-o", stem,
            *elements(inputs),
        ]),
        env=environment(inputs),
        cwd=work_dir,
    )  # fmt: skip
    return tar
