"""``make usb``: write the ISO to a USB stick, safely, and read it back.

Refused: anything that is not a whole, removable disk on the USB bus (found through pyudev,
from sysfs alone when udevd does not run), a disk with a mounted or otherwise held partition,
and the disk the running system lives on (its root, or the live medium it booted from).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import pyudev

from image.errors import UnsafeDevice, VerifyFailed, WriteAborted
from image.manifest import CHUNK, sha256_of

Confirm = Callable[[str], bool]
LIVE_MEDIUM = Path("/run/initramfs/live")  # where dracut mounts the stick we booted from


@dataclass(frozen=True)
class Disk:
    node: str
    model: str
    size_bytes: int
    usb: bool
    removable: bool
    partitions: tuple[str, ...]
    numbers: tuple[str, ...]  # major:minor of the disk and its partitions
    holders: tuple[str, ...] = ()  # device-mapper, RAID... built on the disk or its partitions

    def describe(self) -> str:
        return f"{self.node}: {self.model or 'unknown model'}, {self.size_bytes / 1e9:.1f} GB"


@dataclass(frozen=True)
class SystemState:
    """What the running system holds; paths are configuration so tests can point elsewhere."""

    mounts: Path = Path("/proc/self/mounts")
    swaps: Path = Path("/proc/swaps")
    roots: tuple[Path, ...] = (Path("/"), LIVE_MEDIUM)


def inspect(node: str, *, context: pyudev.Context | None = None) -> Disk:
    context = context or pyudev.Context()
    path = Path(node)
    if not path.exists() or not stat.S_ISBLK(path.stat().st_mode):
        raise UnsafeDevice(f"{node} is not a block device", hint="give a disk such as /dev/sdX")
    device = pyudev.Devices.from_device_file(context, str(path.resolve()))
    if device.device_type != "disk":
        raise UnsafeDevice(
            f"{node} is a partition, not a whole disk",
            hint=f"give the disk itself (e.g. {node.rstrip('0123456789')})",
        )
    children = [child for child in device.children if child.device_type == "partition"]
    return Disk(
        node=str(device.device_node),
        model=_model(device),
        size_bytes=int(_attribute(device, "size") or 0) * 512,
        usb=device.find_parent("usb") is not None,
        removable=_attribute(device, "removable") == "1",
        partitions=tuple(str(child.device_node) for child in children),
        numbers=tuple(_numbers(item) for item in (device, *children)),
        holders=tuple(
            holder.name
            for item in (device, *children)
            for holder in Path(item.sys_path, "holders").glob("*")
        ),
    )


def check_safe(disk: Disk, *, state: SystemState | None = None) -> None:
    state = state or SystemState()
    if not disk.usb:
        raise UnsafeDevice(
            f"{disk.describe()} is not on the USB bus", hint="only USB sticks are written"
        )
    if not disk.removable:
        raise UnsafeDevice(
            f"{disk.describe()} is not a removable disk",
            hint="only removable USB sticks are written, not fixed USB disks",
        )
    held = _system_numbers(state)
    if held & set(disk.numbers):
        raise UnsafeDevice(
            f"{disk.describe()} holds the running system", hint="boot from something else"
        )
    if disk.holders:
        raise UnsafeDevice(
            f"{disk.describe()} is in use by {', '.join(disk.holders)}",
            hint="stop what uses it first (dmsetup, mdadm, cryptsetup ...)",
        )
    mounted = _mounted_nodes(state) & {disk.node, *disk.partitions}
    if mounted:
        raise UnsafeDevice(
            f"{disk.describe()} is mounted ({', '.join(sorted(mounted))})",
            hint="unmount its file systems first (umount ...)",
        )


def write_stick(
    iso: Path, node: str, *, yes: bool, confirm: Confirm, out: TextIO, state: SystemState
) -> None:
    disk = inspect(node)
    check_safe(disk, state=state)
    size = iso.stat().st_size
    if size > disk.size_bytes:
        raise UnsafeDevice(f"{disk.describe()} is smaller than {iso.name} ({size / 1e9:.1f} GB)")
    out.write(f"Writing {iso.name} ({size / 1e6:.0f} MB) to {disk.describe()}\n")
    if not yes and not confirm(f"Everything on {disk.node} will be lost. Write? [y/N] "):
        raise WriteAborted("nothing was written", hint="answer y, or pass --yes")
    copy_and_verify(iso, Path(disk.node), out=out)


def copy_and_verify(iso: Path, target: Path, *, out: TextIO) -> str:
    """Copy the ISO to the start of ``target``, flush, and compare the read-back SHA-256."""
    size = iso.stat().st_size
    expected = sha256_of(iso)
    written = 0
    with iso.open("rb") as source, target.open("r+b", buffering=0) as sink:
        while block := source.read(CHUNK):
            sink.write(block)
            written += len(block)
            if written % (64 * CHUNK) < CHUNK:
                out.write(f"  {written * 100 // size}%\n")
        _flush(sink.fileno())
    _drop_caches(target)
    actual = sha256_of(target, length=size)
    if actual != expected:
        raise VerifyFailed(
            f"{target} does not read back as {iso.name} (sha256 {actual} != {expected})",
            hint="the stick may be failing: try another one",
        )
    out.write(f"Verified: {target} holds {iso.name} (sha256 {expected})\n")
    return expected


def _flush(fd: int) -> None:
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # character devices cannot be synced, nor need to be
            raise


def _drop_caches(target: Path) -> None:
    """Read back from the device, not from the page cache."""
    try:
        fd = os.open(target, os.O_RDONLY)
    except OSError:
        return
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def _model(device: Any) -> str:
    for key in ("ID_MODEL", "ID_VENDOR"):
        if device.properties.get(key):
            return str(device.properties[key])
    parts = [_attribute(device, f"device/{name}") for name in ("vendor", "model")]
    return " ".join(part for part in parts if part)


def _attribute(device: Any, name: str) -> str:
    value = device.attributes.get(name)
    return value.decode(errors="replace").strip() if value is not None else ""


def _numbers(device: Any) -> str:
    number = device.device_number
    return f"{os.major(number)}:{os.minor(number)}"


def _system_numbers(state: SystemState) -> set[str]:
    """major:minor of the devices under the running system, and of the disks holding them."""
    numbers: set[str] = set()
    for root in state.roots:
        try:
            dev = root.stat().st_dev
        except OSError:
            continue
        numbers.add(f"{os.major(dev)}:{os.minor(dev)}")
        sys_block = Path(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
        if sys_block.exists():
            parent = sys_block.resolve().parent / "dev"
            if parent.is_file():
                numbers.add(parent.read_text().strip())
    return numbers


def _mounted_nodes(state: SystemState) -> set[str]:
    nodes: set[str] = set()
    for table in (state.mounts, state.swaps):
        try:
            lines = table.read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            source = line.split(" ", 1)[0]
            if source.startswith("/dev/"):
                nodes.add(os.path.realpath(source))
    return nodes
