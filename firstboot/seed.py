"""Find and read the seed file that answers the wizard unattended (format: README.md).

Looked for in this order, the first found wins:

1. ``virtstick.seed=`` on the kernel command line: ``/path/seed.toml`` on the running system,
   or ``LABEL=NAME:/path/seed.toml`` on the filesystem labelled NAME;
2. a filesystem labelled ``VSSEED`` (ISO 9660 or FAT) with ``virtstick-seed.toml`` at its root,
   found through udev's ``ID_FS_LABEL`` or else ``/dev/disk/by-label``;
3. the file baked into the image, ``/etc/virtstick/seed.toml``.

Labelled filesystems are read without mounting them (mtools for FAT, xorriso for ISO 9660).
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyudev

from appliance.errors import InvalidInput
from firstboot.answers import Answers, Facts, FieldError, InvalidAnswers, parse_answers
from firstboot.settings import WizardSettings

SEED_FILE_NAME = "virtstick-seed.toml"
CMDLINE_KEY = "virtstick.seed"


class SeedUnreadable(InvalidInput):
    code = "seed-unreadable"
    reason = "Seed file unreadable"


@dataclass(frozen=True)
class Seed:
    source: str  # where it came from, for messages: "kernel command line: /x.toml"
    text: str


def find_seed(settings: WizardSettings) -> Seed | None:
    """The first seed found, or None; a seed named but unreadable raises SeedUnreadable."""
    named = _from_cmdline(settings)
    if named is not None:
        return named
    device = find_labelled_device(settings.seed_label, settings.by_label_dir)
    if device is not None:
        text = read_from_filesystem(device, SEED_FILE_NAME)
        if text is not None:
            return Seed(f"filesystem {settings.seed_label} ({device})", text)
    if settings.baked_seed.is_file():
        return Seed(f"baked seed {settings.baked_seed}", settings.baked_seed.read_text())
    return None


def answers_from_seed(seed: Seed, facts: Facts) -> Answers:
    """Parse and validate; InvalidAnswers names every bad key, with the seed's source."""
    return parse_answers(parse_seed_text(seed), facts, source=f"seed ({seed.source})")


def parse_seed_text(seed: Seed) -> dict[str, Any]:
    try:
        return tomllib.loads(seed.text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidAnswers([FieldError("(file)", f"not valid TOML: {exc}")],
                             source=f"seed ({seed.source})") from None


def find_labelled_device(label: str, by_label_dir: Path) -> str | None:
    """A block device carrying a filesystem with this label: udev first, then by-label."""
    try:
        for device in pyudev.Context().list_devices(subsystem="block", ID_FS_LABEL=label):
            if device.device_node:
                return str(device.device_node)
    except (OSError, pyudev.DeviceNotFoundError):
        pass  # no udev database here: the by-label links may still exist
    link = by_label_dir / label
    return str(link.resolve()) if link.exists() else None


def read_from_filesystem(device: str, relative: str) -> str | None:
    """The text of one file on a FAT or ISO 9660 filesystem, or None when it is not there.

    Read in user space (mtools, xorriso) rather than mounted: no vfat/iso9660 kernel module
    is needed and the evaluator's stick is never mounted. Other filesystems are mounted
    read-only in a temporary directory for the moment of reading.
    """
    name = relative.lstrip("/")
    kind = subprocess.run(["blkid", "-p", "-o", "value", "-s", "TYPE", device],
                          capture_output=True, text=True, check=False).stdout.strip()
    if kind == "vfat":
        result = subprocess.run(["mtype", "-i", device, f"::{name}"], capture_output=True,
                                text=True, check=False)
        return result.stdout if result.returncode == 0 else None
    if kind == "iso9660":
        return _read_iso(device, name)
    return _read_mounted(device, name)


def _read_iso(device: str, name: str) -> str | None:
    with tempfile.TemporaryDirectory(prefix="virtstick-seed-") as scratch:
        target = Path(scratch) / "seed.toml"
        subprocess.run(["xorriso", "-osirrox", "on", "-indev", f"stdio:{device}",
                        "-extract", f"/{name}", str(target)], capture_output=True, check=False)
        return target.read_text() if target.is_file() else None


def _read_mounted(device: str, name: str) -> str | None:
    with tempfile.TemporaryDirectory(prefix="virtstick-seed-") as mountpoint:
        mounted = subprocess.run(["mount", "-o", "ro", device, mountpoint],
                                 capture_output=True, text=True, check=False)
        if mounted.returncode != 0:
            raise SeedUnreadable(f"cannot mount {device}: {mounted.stderr.strip()}")
        try:
            path = Path(mountpoint) / name
            return path.read_text() if path.is_file() else None
        finally:
            subprocess.run(["umount", mountpoint], capture_output=True, check=False)


def _from_cmdline(settings: WizardSettings) -> Seed | None:
    try:
        words = shlex.split(settings.cmdline_path.read_text())
    except (OSError, ValueError):
        return None
    values = [w.split("=", 1)[1] for w in words if w.startswith(CMDLINE_KEY + "=")]
    if not values:
        return None
    value = values[-1]  # the kernel's rule: the last one given wins
    where = f"kernel command line {CMDLINE_KEY}={value}"
    if value.startswith("LABEL="):
        label, _, relative = value.removeprefix("LABEL=").partition(":")
        device = find_labelled_device(label, settings.by_label_dir)
        if device is None:
            raise SeedUnreadable(f"{where}: no filesystem labelled {label!r}")
        text = read_from_filesystem(device, relative or SEED_FILE_NAME)
        if text is None:
            raise SeedUnreadable(f"{where}: no file {relative!r} on {device}")
        return Seed(where, text)
    try:
        return Seed(where, Path(value).read_text())
    except OSError as exc:
        raise SeedUnreadable(f"{where}: {exc.strerror}") from None
