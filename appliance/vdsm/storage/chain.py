"""Volume chains of a file storage domain while no QEMU holds them: merge a layer into the one
below, collapse a chain into one independent volume, bring disk image files in and out.
"""

from __future__ import annotations

from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.storage import volume
from appliance.vdsm.storage.domain import VolumeFile
from appliance.vdsm.storage_interface import Progress


def commit_down(*, top: VolumeFile, base: VolumeFile, child: VolumeFile | None) -> None:
    """Merge ``top`` into its backing ``base`` and drop it; ``child`` (the layer above
    ``top``, if any) is rebased onto ``base``, whose content is now what ``top`` showed."""
    _require(top)
    _require(base)
    _writable(base.path)
    # Layers are qcow2; the format of what lies below is the one top recorded, never probed.
    base_format = volume.info(top.path, fmt="qcow2").backing_format or "qcow2"
    volume.commit(top.path)
    if child is not None:
        # The data did not change, only where it lives: an unsafe rebase rewrites the header.
        volume.rebase(child.path, backing=base.path, backing_format=base_format, safe=False)
    top.path.unlink()


def collapse(source: VolumeFile, target: VolumeFile, *, fmt: str = "qcow2",
             source_format: str = "qcow2", progress: Progress | None = None) -> None:
    """Copy the whole chain under ``source`` into a new independent volume ``target``.

    The source format is given, never probed: a damaged qcow2 must fail, not pass as raw."""
    _require(source)
    import_file(source.path, target, fmt=fmt, source_format=source_format, progress=progress)


def import_file(source: Path, target: VolumeFile, *, fmt: str = "qcow2",
                source_format: str | None = None, progress: Progress | None = None) -> None:
    """Convert a disk image file (qcow2, raw, vmdk, vdi...) into a new volume ``target``."""
    directory = target.path.parent
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
    if target.path.exists():
        raise HostAgentError(f"volume {target.id.volume_id} already exists")
    volume.convert(source, target.path, target_format=fmt, source_format=source_format,
                   progress=progress)
    target.path.chmod(0o644)


def export(source: VolumeFile, target: Path, *, fmt: str = "qcow2",
           source_format: str = "qcow2", progress: Progress | None = None) -> None:
    """Write the whole chain under ``source`` to a file outside the domain (an OVA's disk)."""
    _require(source)
    volume.convert(source.path, target, target_format=fmt, source_format=source_format,
                   progress=progress)


def delete(ref: VolumeFile) -> None:
    ref.path.unlink(missing_ok=True)


def set_read_only(ref: VolumeFile, read_only: bool) -> None:
    """Template volumes are read-only files, so no mistake can write into a shared base."""
    ref.path.chmod(0o444 if read_only else 0o644)


def _require(ref: VolumeFile) -> None:
    if not ref.path.is_file():
        raise HostAgentError(f"volume {ref.id.volume_id} of image {ref.id.image_id} is missing")


def _writable(path: Path) -> None:
    if path.stat().st_mode & 0o200 == 0:
        raise HostAgentError(f"volume {path.name} is read-only (a template's); it cannot "
                             "take a merge")
