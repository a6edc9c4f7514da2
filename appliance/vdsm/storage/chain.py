"""Volume chains of a file storage domain while no QEMU holds them: merge a layer into the one
below, collapse a chain into one independent volume, bring foreign disk images in.

A ``VolumeRef`` names one volume the way the engine knows it (domain, image, volume); the
paths are the host's business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.storage import volume
from appliance.vdsm.storage.domain import FileStorageDomain

Progress = Callable[[int], None]


@dataclass(frozen=True)
class VolumeRef:
    storage_path: str
    storage_domain_id: str
    image_id: str
    volume_id: str

    @property
    def domain(self) -> FileStorageDomain:
        return FileStorageDomain(Path(self.storage_path), self.storage_domain_id)

    @property
    def path(self) -> Path:
        return self.domain.volume_path(image_id=self.image_id, volume_id=self.volume_id)

    def sibling(self, volume_id: str) -> VolumeRef:
        """Another volume of the same image."""
        return VolumeRef(self.storage_path, self.storage_domain_id, self.image_id, volume_id)


def commit_down(*, top: VolumeRef, base: VolumeRef, child: VolumeRef | None) -> None:
    """Merge ``top`` into its backing ``base`` and drop it; ``child`` (the layer above
    ``top``, if any) is rebased onto ``base``, whose content is now what ``top`` showed."""
    _require(top)
    _require(base)
    _writable(base.path)
    volume.commit(top.path)
    if child is not None:
        # The data did not change, only where it lives: an unsafe rebase rewrites the header.
        volume.rebase(child.path, backing=base.path, safe=False)
    top.path.unlink()


def collapse(source: VolumeRef, target: VolumeRef, *, fmt: str = "qcow2",
             source_format: str = "qcow2", progress: Progress | None = None) -> None:
    """Copy the whole chain under ``source`` into a new independent volume ``target``.

    The source format is given, never probed: a damaged qcow2 must fail, not pass as raw."""
    _require(source)
    import_file(source.path, target, fmt=fmt, source_format=source_format, progress=progress)


def import_file(source: Path, target: VolumeRef, *, fmt: str = "qcow2",
                source_format: str | None = None, progress: Progress | None = None) -> None:
    """Convert a disk image file (qcow2, raw, vmdk, vdi...) into a new volume ``target``."""
    directory = target.path.parent
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    if target.path.exists():
        raise HostAgentError(f"volume {target.volume_id} already exists")
    volume.convert(source, target.path, target_format=fmt, source_format=source_format,
                   progress=progress)
    target.path.chmod(0o644)


def export(source: VolumeRef, target: Path, *, fmt: str = "qcow2",
           source_format: str = "qcow2", progress: Progress | None = None) -> None:
    """Write the whole chain under ``source`` to a file outside the domain (an OVA's disk)."""
    _require(source)
    volume.convert(source.path, target, target_format=fmt, source_format=source_format,
                   progress=progress)


def delete(ref: VolumeRef) -> None:
    ref.path.unlink(missing_ok=True)


def set_read_only(ref: VolumeRef, read_only: bool) -> None:
    """Template volumes are read-only files, so no mistake can write into a shared base."""
    ref.path.chmod(0o444 if read_only else 0o644)


def _require(ref: VolumeRef) -> None:
    if not ref.path.is_file():
        raise HostAgentError(f"volume {ref.volume_id} of image {ref.image_id} is missing")


def _writable(path: Path) -> None:
    if path.stat().st_mode & 0o200 == 0:
        raise HostAgentError(f"volume {path.name} is read-only (a template's); it cannot "
                             "take a merge")
