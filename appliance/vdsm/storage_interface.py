"""Storage as the engine asks a host for it: by ids, never by paths.

As in VDSM, a host is told once where each storage domain lives (``connectStorageServer``:
the domain's id and its directory or mount), and from then on every request names a volume by
(storage domain id, image id, volume id). Resolving those to files, and every qemu-img and
file operation, stays on the host (``appliance.vdsm.storage``). Images the user hands over
(an OVA, a VMware disk, the demo guest) are the one kind of path that crosses: they are
inputs from outside any domain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

Progress = Callable[[int], None]  # percent done, or bytes done where a verb says so


@dataclass(frozen=True)
class StorageConnection:
    """Where a storage domain lives as a host reaches it: a directory (the RAM domain's tmpfs
    or zram mount, a local disk, a mounted export). Every host of the lab sees it."""

    storage_domain_id: str
    path: str


@dataclass(frozen=True)
class VolumeId:
    """One volume of one image (a disk) of one storage domain."""

    storage_domain_id: str
    image_id: str
    volume_id: str

    def sibling(self, volume_id: str) -> VolumeId:
        """Another volume of the same image (a layer above or below in its chain)."""
        return VolumeId(self.storage_domain_id, self.image_id, volume_id)


@dataclass(frozen=True)
class VolumeInfo:
    virtual_size: int
    actual_size: int
    format: str
    backing_file: str | None
    backing_format: str | None = None  # as recorded in the image, never probed


@dataclass(frozen=True)
class Sparsified:
    """A volume written anew without its zeroed clusters: what its file took before and
    after."""

    before: int
    after: int

    @property
    def freed(self) -> int:
        return max(0, self.before - self.after)


@dataclass(frozen=True)
class RamUse:
    """The RAM a domain in memory holds: all of its data on tmpfs, the compressed data (and
    the allocator's overhead) on zram."""

    backing: str  # tmpfs or zram
    ram: int  # bytes of RAM held
    stored: int  # bytes of data held

    @property
    def compression_ratio(self) -> float:
        """Data per byte of RAM: 1.0 on tmpfs, what compression buys on zram."""
        return self.stored / self.ram if self.ram else 1.0


@dataclass(frozen=True)
class DomainStats:
    capacity: int
    used: int
    free: int
    ram: RamUse | None = None  # None: the domain is not in memory (a disk, a directory)


@dataclass(frozen=True)
class LiveLayer:
    """Freeze ``current`` (the disk's top) and continue on the new layer ``new`` above it."""

    current: VolumeId
    new: VolumeId


@dataclass(frozen=True)
class ForeignImage:
    """A disk image from outside the storage domains: a whole file, or a byte range of one
    (an OVA's member). ``format`` is what the caller found in its first bytes and is never
    probed again; None lets qemu-img probe, for images the appliance itself ships."""

    path: Path
    format: str | None = None
    offset: int = 0
    length: int | None = None  # None: the whole file

    @property
    def in_archive(self) -> bool:
        return self.length is not None


class Readable(Protocol):
    """What an upload is read from (a request body, or a wrapper checking it on the way)."""

    def read(self, size: int = -1, /) -> bytes: ...
