"""A minimal writer for the cpio "newc" format the kernel unpacks as its initramfs.

Written here rather than with cpio(1) so the archive can hold root-owned files and a
/dev/console device node without running as root, and is byte-for-byte reproducible.
"""

from __future__ import annotations

import stat
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Entry:
    name: str  # path inside the archive, no leading slash
    mode: int  # full st_mode: type bits | permissions
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)  # (major, minor) for device nodes


def directory(name: str) -> Entry:
    return Entry(name, stat.S_IFDIR | 0o755)


def regular(name: str, data: bytes, *, executable: bool = False) -> Entry:
    return Entry(name, stat.S_IFREG | (0o755 if executable else 0o644), data)


def symlink(name: str, target: str) -> Entry:
    return Entry(name, stat.S_IFLNK | 0o777, target.encode())


def char_device(name: str, major: int, minor: int) -> Entry:
    return Entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))


def _pad(out: BinaryIO, length: int) -> None:
    out.write(b"\0" * (-length % 4))


def _write_one(out: BinaryIO, entry: Entry, inode: int) -> None:
    name = entry.name.encode() + b"\0"
    fields = (
        inode, entry.mode, 0, 0, 2 if stat.S_ISDIR(entry.mode) else 1, 0, len(entry.data),
        0, 0, entry.rdev[0], entry.rdev[1], len(name), 0,
    )  # fmt: skip
    header = b"070701" + b"".join(b"%08X" % f for f in fields)
    out.write(header + name)
    _pad(out, len(header) + len(name))
    out.write(entry.data)
    _pad(out, len(entry.data))


def write_archive(out: BinaryIO, entries: list[Entry]) -> None:
    """Write entries (parents before children) and the trailer."""
    for inode, entry in enumerate(entries, start=1):
        _write_one(out, entry, inode)
    _write_one(out, Entry("TRAILER!!!", 0), 0)
