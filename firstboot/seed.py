"""Find and read the seed file that answers the wizard unattended (format: README.md).

Looked for in this order, the first found wins:

1. ``virtstick.seed=`` on the kernel command line: ``/path/seed.toml`` on the running system,
   or ``LABEL=NAME:/path/seed.toml`` on the filesystem labelled NAME;
2. a filesystem labelled ``VSSEED`` (ISO 9660 or FAT) with ``virtstick-seed.toml`` at its root,
   found through udev's ``ID_FS_LABEL`` or else ``/dev/disk/by-label``;
3. the file baked into the image, ``/etc/virtstick/seed.toml``.

Labelled filesystems may not be there yet when the wizard starts (udev still probing, a USB
stick still enumerating): the search waits for them with a deadline (``firstboot.settle``),
and when nothing is found it says which places it searched and what it saw there.
Labelled filesystems are read without mounting them (mtools for FAT, xorriso for ISO 9660).
"""

from __future__ import annotations

import shlex
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyudev

from appliance.errors import InvalidInput
from firstboot.answers import Answers, Facts, FieldError, InvalidAnswers, parse_answers
from firstboot.settings import WizardSettings
from firstboot.settle import Patience, WaitResult, wait_for

SEED_FILE_NAME = "virtstick-seed.toml"
CMDLINE_KEY = "virtstick.seed"


class SeedUnreadable(InvalidInput):
    code = "seed-unreadable"
    reason = "Seed file unreadable"


@dataclass(frozen=True)
class Seed:
    source: str  # where it came from, for messages: "kernel command line: /x.toml"
    text: str


@dataclass(frozen=True)
class SeedSearch:
    seed: Seed | None
    searched: tuple[str, ...]  # each place looked at and what was there, in order

    def summary(self) -> str:
        return "; ".join(self.searched)


WaitNotice = Callable[[str], None]


def find_seed(settings: WizardSettings) -> Seed | None:
    """The first seed found, or None; a seed named but unreadable raises SeedUnreadable."""
    return search_seed(settings).seed


def search_seed(settings: WizardSettings, *, on_wait: WaitNotice | None = None,
                clock: Callable[[], float] = time.monotonic) -> SeedSearch:
    """Look where seeds may be, waiting for labelled filesystems to appear (bounded)."""
    searched: list[str] = []
    named = _from_cmdline(settings, searched, on_wait=on_wait, clock=clock)
    if named is not None:
        return SeedSearch(named, tuple(searched))
    label = settings.seed_label
    waited = wait_for(lambda: find_labelled_device(label, settings.by_label_dir),
                      patience(settings), clock=clock,
                      on_wait=_announce(on_wait, f"a filesystem labelled {label}"))
    if waited.found is not None:
        text = read_from_filesystem(waited.found, SEED_FILE_NAME)
        if text is not None:
            searched.append(f"filesystem {label} on {waited.found}: {SEED_FILE_NAME}")
            return SeedSearch(Seed(f"filesystem {label} ({waited.found})", text),
                              tuple(searched))
        searched.append(f"filesystem {label} on {waited.found}: no {SEED_FILE_NAME} at its root")
    else:
        searched.append(f"filesystems labelled {label}: none {_seen(waited)}")
    if settings.baked_seed.is_file():
        searched.append(f"baked seed {settings.baked_seed}")
        return SeedSearch(Seed(f"baked seed {settings.baked_seed}",
                               settings.baked_seed.read_text()), tuple(searched))
    searched.append(f"baked seed {settings.baked_seed}: absent")
    return SeedSearch(None, tuple(searched))


def patience(settings: WizardSettings) -> Patience:
    return Patience(settle_timeout_s=settings.seed_settle_timeout_s,
                    until_uptime_s=settings.seed_wait_until_uptime_s,
                    quiet_s=settings.seed_quiet_s, max_s=settings.seed_wait_max_s,
                    uptime_path=settings.uptime_path)


def _announce(on_wait: WaitNotice | None, what: str) -> Callable[[float], None] | None:
    if on_wait is None:
        return None
    return lambda seconds: on_wait(f"waiting up to {seconds:.0f} s for {what} to appear")


def _seen(waited: WaitResult) -> str:
    """What the search saw, so a user can tell a missing stick from a mislabelled one."""
    devices = block_devices()
    listed = ", ".join(devices[:12]) + (", ..." if len(devices) > 12 else "")
    return (f"(after {waited.waited_s:.0f} s, {waited.events} device event(s); "
            f"block devices: {listed or 'none'})")


def block_devices() -> list[str]:
    """Block devices with their filesystem type and label, as udev knows them."""
    seen = []
    try:
        for device in pyudev.Context().list_devices(subsystem="block"):
            name, props = device.sys_name, device.properties
            if name.startswith(("loop", "ram", "zram")) and not props.get("ID_FS_TYPE"):
                continue  # unused loop and RAM devices: noise
            fs = " ".join(v for v in (props.get("ID_FS_TYPE", ""), props.get("ID_FS_LABEL", ""))
                          if v)
            seen.append(f"{name} ({fs})" if fs else name)
    except OSError:
        pass
    return seen


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


def _from_cmdline(settings: WizardSettings, searched: list[str], *,
                  on_wait: WaitNotice | None, clock: Callable[[], float]) -> Seed | None:
    try:
        words = shlex.split(settings.cmdline_path.read_text())
    except (OSError, ValueError):
        searched.append(f"kernel command line {settings.cmdline_path}: unreadable")
        return None
    values = [w.split("=", 1)[1] for w in words if w.startswith(CMDLINE_KEY + "=")]
    if not values:
        searched.append(f"kernel command line: no {CMDLINE_KEY}=")
        return None
    value = values[-1]  # the kernel's rule: the last one given wins
    where = f"kernel command line {CMDLINE_KEY}={value}"
    searched.append(where)
    if value.startswith("LABEL="):
        label, _, relative = value.removeprefix("LABEL=").partition(":")
        waited = wait_for(lambda: find_labelled_device(label, settings.by_label_dir),
                          patience(settings), expected=True, clock=clock,
                          on_wait=_announce(on_wait, f"the filesystem labelled {label}"))
        if waited.found is None:
            raise SeedUnreadable(f"{where}: no filesystem labelled {label!r} {_seen(waited)}")
        text = read_from_filesystem(waited.found, relative or SEED_FILE_NAME)
        if text is None:
            raise SeedUnreadable(f"{where}: no file {relative!r} on {waited.found}")
        return Seed(where, text)
    try:
        return Seed(where, Path(value).read_text())
    except OSError as exc:
        raise SeedUnreadable(f"{where}: {exc.strerror}") from None
