"""The builder's options, parsed once into a frozen value and checked before anything runs.

Bad options fail fast with a hint: an unknown distro, an output directory that cannot be
written, missing host tools, a seed file that does not parse.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from image.distro import DistroName, DistroPlan, HostSources, HostTool
from image.errors import MissingHostTools, OutputNotWritable, SeedInvalid

PROJECT_DIR = Path(__file__).resolve().parent.parent
ELEMENTS_DIR = Path(__file__).resolve().parent / "elements"
VOLUME_ID = "VIRTSTICK"

# Needed whatever the base distro: DIB itself, the squashfs, the ISO and its boot images.
COMMON_TOOLS = (
    HostTool("sudo", "sudo"),
    HostTool("tar", "tar"),
    HostTool("mksquashfs", "squashfs-tools"),
    HostTool("xorriso", "xorriso"),
    HostTool("mkfs.vfat", "dosfstools"),
    HostTool("mcopy", "mtools"),
    HostTool("mmd", "mtools"),
    HostTool("qemu-img", "qemu-utils"),
)


@dataclass(frozen=True)
class BuildOptions:
    distro: DistroName = DistroName.AUTO
    output_dir: Path = PROJECT_DIR / "out"
    cache_dir: Path = PROJECT_DIR / ".cache" / "image"
    seed: Path | None = None
    demo: bool = True  # build the demo guest and preload it
    sources: HostSources = field(default_factory=HostSources)
    tool_path: str = field(default_factory=lambda: os.environ.get("PATH", ""))
    project_dir: Path = PROJECT_DIR
    elements_dir: Path = ELEMENTS_DIR
    volume_id: str = VOLUME_ID
    keep_work: bool = False

    @property
    def work_dir(self) -> Path:
        return self.cache_dir / "work"

    @property
    def log_dir(self) -> Path:
        return self.cache_dir / "logs"


def check_output_dir(path: Path) -> None:
    """Create the output directory if needed and prove a file can be written in it."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(
            f"cannot write the image to {path}: {exc.strerror or exc}",
            hint="choose another directory with --output (OUT=... for make image)",
        ) from None


def check_seed(path: Path) -> dict[str, object]:
    """The seed must be a readable TOML file; the wizard checks its meaning at boot."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise SeedInvalid(
            f"cannot read the seed file {path}: {exc.strerror or exc}",
            hint="SEED= must name a readable TOML file (see the README's seed section)",
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SeedInvalid(
            f"the seed file {path} is not valid TOML: {exc}",
            hint="fix the file; the README's seed section has an example",
        ) from None


def check_host_tools(plan: DistroPlan, *, tool_path: str) -> None:
    tools = (*COMMON_TOOLS, HostTool(plan.grub_mkimage, "grub-common"), *plan.host_tools)
    missing = [tool for tool in tools if shutil.which(tool.command, path=tool_path) is None]
    if not plan.grub_bios_dir.joinpath("boot_hybrid.img").is_file():
        missing.append(HostTool(str(plan.grub_bios_dir / "boot_hybrid.img"), "grub-pc-bin"))
    if missing:
        names = ", ".join(tool.command for tool in missing)
        packages = " ".join(sorted({tool.package for tool in missing}))
        raise MissingHostTools(
            f"the build host lacks: {names}",
            hint=f"run 'make setup' (or apt-get install {packages})",
        )
