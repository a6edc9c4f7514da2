"""The first bytes of a qcow2 image from outside, read before qemu-img opens it.

qemu-img follows what a qcow2 header names: a backing file, and an external data file (the
"data-file" option, where the guest's data lives in another file). Either can name any file of
the host, which qemu-img then reads - and writes, on a commit - as root. qemu-img reports a
backing file; the data file it simply opens, so it is refused here from the header itself
(incompatible feature bit 2, qcow2 version 3)."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ImageRejected

MAGIC = b"QFI\xfb"
_EXTERNAL_DATA_FILE = 1 << 2  # incompatible_features, bytes 72-79 of a version 3 header
_HEADER_V3 = 104


@dataclass(frozen=True)
class Qcow2Header:
    version: int
    backing_file: bool
    external_data_file: bool


def read(path: Path) -> Qcow2Header | None:
    """The header of ``path``, or None when it does not start as a qcow2 image of a version
    qemu knows (2 or 3: anything else qemu-img itself refuses as damaged)."""
    with path.open("rb") as image:
        head = image.read(_HEADER_V3)
    if len(head) < 32 or head[:4] != MAGIC:
        return None
    version, backing_offset = struct.unpack(">IQ", head[4:16])
    if version not in (2, 3):
        return None
    incompatible = struct.unpack(">Q", head[72:80])[0] if version == 3 and len(head) >= 80 \
        else 0
    return Qcow2Header(version=version, backing_file=backing_offset != 0,
                       external_data_file=bool(incompatible & _EXTERNAL_DATA_FILE))


def require_standalone(path: Path, *, what: str) -> None:
    """Refuse a qcow2 ``path`` that keeps its data in another file. (A backing file qemu-img
    reports without opening it; the callers refuse it from that report.)"""
    header = read(path)
    if header is not None and header.external_data_file:
        raise ImageRejected(f"{what} keeps its data in an external data file, which could "
                            "be any file of the host; it must stand alone (qemu-img convert "
                            "-O qcow2 makes it so).")
