"""VMDK files from outside: a descriptor (text) VMDK names its extents, which must be plain
files beside it; otherwise qemu-img would open whatever path the descriptor names."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.errors import ImageRejected

DESCRIPTOR_MAGIC = b"# Disk DescriptorFile"
_EXTENT = re.compile(r'^\s*(RW|RDONLY|NOACCESS)\s+\d+\s+(\w+)\s+"([^"]*)"', re.MULTILINE)


def is_descriptor(head: bytes) -> bool:
    return head.lstrip().startswith(DESCRIPTOR_MAGIC)


def check_extents(path: Path) -> list[Path]:
    """The extents a descriptor VMDK names, each a regular file in its directory."""
    text = path.read_bytes()[:65536].decode("utf-8", "replace")
    extents = []
    for _access, kind, name in _EXTENT.findall(text):
        if kind.upper() not in ("FLAT", "SPARSE", "VMFS", "VMFSSPARSE"):
            raise ImageRejected(f"VMDK {path.name} has an extent of kind {kind}, which "
                                "VirtStick does not read.")
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise ImageRejected(f"VMDK {path.name} names extent '{name}' outside its own "
                                "directory; refused.")
        extent = path.parent / name
        if not extent.is_file() or extent.is_symlink():
            raise ImageRejected(f"VMDK {path.name} names extent '{name}', which is missing.")
        extents.append(extent)
    if not extents:
        raise ImageRejected(f"VMDK descriptor {path.name} names no extents.")
    return extents
