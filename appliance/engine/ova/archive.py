"""OVA archives (plain tar) read without trusting them and written atomically.

Written as oVirt's ``pack_ova.py`` does: GNU tar, the descriptor first, then each disk as a
member whose size is a multiple of 512 bytes (the image padded with zeros): oVirt's
``extract_ova.py`` skips a disk member by its size without rounding, and qemu reads a member
in place (``json:{"driver":"raw","offset":..,"size":..}``) only when its size is so aligned.

Reading never extracts by the member's own name: every member is checked first (regular
file, relative path without ``..``, data inside the file, no duplicates) and copied to a
path the caller chose. A truncated or corrupt archive is refused before anything is kept.
"""

from __future__ import annotations

import os
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from appliance.errors import ImageRejected

Progress = Callable[[int], None]  # bytes done
CHUNK = 4 * 1024 * 1024
BLOCK = 512  # tar's block; disk members are padded to it


@dataclass(frozen=True)
class Member:
    name: str
    offset: int  # of the data in the archive
    size: int


def members(path: Path) -> list[Member]:
    """The archive's files in order, checked; directories are skipped."""
    total = path.stat().st_size
    found: list[Member] = []
    seen: set[str] = set()
    try:
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if info.isdir():
                    continue
                name = _safe_name(info.name)
                if not info.isreg():
                    raise ImageRejected(f"OVA member '{info.name}' is not a regular file "
                                        "(links and devices are refused).")
                if name in seen:
                    raise ImageRejected(f"OVA member '{name}' appears twice.")
                if info.offset_data + info.size > total:
                    raise ImageRejected(f"The OVA is truncated: member '{name}' needs "
                                        f"{info.size} bytes that are not there.")
                seen.add(name)
                found.append(Member(name, info.offset_data, info.size))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ImageRejected(f"{path.name} is not a readable OVA (tar) archive: {exc}") from None
    if not found:
        raise ImageRejected(f"{path.name} is an empty archive.")
    return found


def read(path: Path, member: Member, *, limit: int) -> bytes:
    if member.size > limit:
        raise ImageRejected(f"OVA member '{member.name}' is larger than {limit} bytes.")
    with path.open("rb") as archive:
        archive.seek(member.offset)
        return archive.read(member.size)


def extract(path: Path, member: Member, target: Path, *,
            progress: Progress | None = None) -> None:
    """Copy one member's data to ``target`` (a path we chose, never the member's name)."""
    with path.open("rb") as archive, target.open("xb") as out:
        archive.seek(member.offset)
        _copy(archive, out, member.size, progress)


def head(path: Path, member: Member, count: int = 512) -> bytes:
    with path.open("rb") as archive:
        archive.seek(member.offset)
        return archive.read(min(count, member.size))


def write(target: Path, *, descriptor_name: str, descriptor: bytes,
          files: list[tuple[str, Path]], progress: Progress | None = None) -> None:
    """An OVA as oVirt makes it: the descriptor first, then the files. Written beside the
    target and renamed at the end, so a failure leaves no partial OVA under its name."""
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("xb") as out, tarfile.open(fileobj=out, mode="w:",
                                                     format=tarfile.GNU_FORMAT) as tar:
            info = _info(descriptor_name, len(descriptor))
            tar.addfile(info, _BytesReader(descriptor))
            done = 0
            for name, path in files:
                size = path.stat().st_size
                with path.open("rb") as source:
                    tar.addfile(_info(name, padded_size(size)),
                                _Counting(_Padded(source, size), done, progress))
                done += size
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def padded_size(size: int) -> int:
    """A disk member's size in the archive: the image's, rounded up to 512 bytes."""
    return size + (-size % BLOCK)


def _safe_name(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or name.startswith(("/", "\\")) or "\\" in name:
        raise ImageRejected(f"OVA member '{name}' has an absolute or foreign path; refused.")
    if any(part == ".." for part in path.parts):
        raise ImageRejected(f"OVA member '{name}' climbs out of the archive with '..'; "
                            "refused.")
    return str(path)


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = int(time.time())
    return info


def _copy(source: BinaryIO, out: BinaryIO, size: int, progress: Progress | None) -> None:
    done = 0
    while done < size:
        chunk = source.read(min(CHUNK, size - done))
        if not chunk:
            raise ImageRejected("The OVA ended in the middle of a member.")
        out.write(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        chunk = self._data[self._pos:end]
        self._pos += len(chunk)
        return chunk


class _Padded:
    """A file read to its end and then as many zero bytes as reach a 512-byte boundary."""

    def __init__(self, source: BinaryIO, size: int) -> None:
        self._source = source
        self._left = padded_size(size) - size
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        data = b"" if self._ended else self._source.read(size)
        if size < 0 or len(data) < size:  # the file ended: the padding follows in this read
            self._ended = True
            count = self._left if size < 0 else min(self._left, size - len(data))
            self._left -= count
            data += b"\0" * count
        return data


class _Counting:
    """A file wrapper that reports how many bytes the tar writer has taken."""

    def __init__(self, source: BinaryIO | _Padded, before: int,
                 progress: Progress | None) -> None:
        self._source = source
        self._done = before
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._done += len(chunk)
        if self._progress is not None:
            self._progress(self._done)
        return chunk
