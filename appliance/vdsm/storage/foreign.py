"""Disk images from outside the storage domains brought into new volumes: files the user
handed over (a VMware or Xen disk, the demo guest), byte ranges of an archive (an OVA's
members), and uploaded streams (ISO images).

An archive member is first copied to a hidden file beside its volume, on the domain (the room
check counts it), then checked and converted; nothing is left of it either way. A foreign
image is never trusted: its format is given, never probed, and it must stand alone (a
backing file in it could name any file of the host).
"""

from __future__ import annotations

from pathlib import Path

from appliance.errors import HostAgentError, ImageRejected
from appliance.vdsm.storage import chain, qcow2_header, volume
from appliance.vdsm.storage.domain import VolumeFile
from appliance.vdsm.storage_interface import ForeignImage, Progress, Readable, VolumeInfo

CHUNK = 4 * 1024 * 1024


def inspect(image: ForeignImage) -> VolumeInfo:
    """What qemu-img says of a whole image file, read as its given format."""
    if image.in_archive:
        raise HostAgentError(f"{image.path.name}: an archive member is inspected when it is "
                             "imported")
    return volume.info(image.path, fmt=image.format)


def bring_in(image: ForeignImage, target: VolumeFile, *, max_virtual_size: int | None,
             staged: Progress | None, progress: Progress | None) -> VolumeInfo:
    """Check ``image`` and convert it into the new volume ``target`` (qcow2). ``staged``
    hears bytes copied out of an archive, ``progress`` the conversion's percent."""
    _open_directory(target.path.parent)
    scratch = target.path.with_name(f".import-{target.id.volume_id}")
    try:
        local = image.path
        if image.in_archive:
            _copy_range(image, scratch, staged)
            local = scratch
        _check(local, image.format, max_virtual_size)
        chain.import_file(local, target, source_format=image.format, progress=progress)
    finally:
        scratch.unlink(missing_ok=True)
    return volume.info(target.path, fmt="qcow2")


def receive(stream: Readable, target: VolumeFile) -> int:
    """A new raw volume holding what ``stream`` yields. It is written to a hidden file beside
    its place and renamed when the stream ends, so a read that fails (the caller's checks
    raise from the stream) keeps nothing. Returns the bytes written."""
    _open_directory(target.path.parent)
    if target.path.exists():
        raise HostAgentError(f"volume {target.id.volume_id} already exists")
    partial = target.path.with_name(f".upload-{target.id.volume_id}")
    written = 0
    try:
        with partial.open("xb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                written += len(chunk)
        partial.chmod(0o644)
        partial.rename(target.path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def _check(path: Path, fmt: str | None, max_virtual_size: int | None) -> None:
    if fmt in (None, "qcow2"):
        qcow2_header.require_standalone(path, what=path.name)  # before qemu-img opens it
    try:
        info = volume.info(path, fmt=fmt)
    except HostAgentError as exc:
        raise ImageRejected(f"is not a valid {fmt or 'disk'} image: {exc.detail}") from None
    if info.backing_file:
        raise ImageRejected(f"names a backing file ({info.backing_file}); an imported image "
                            "must stand alone.")
    if max_virtual_size is not None and info.virtual_size > max_virtual_size:
        raise ImageRejected(f"holds {info.virtual_size} bytes, more than the "
                            f"{max_virtual_size} its description allows.")


def _copy_range(image: ForeignImage, target: Path, progress: Progress | None) -> None:
    assert image.length is not None
    done = 0
    with image.path.open("rb") as source, target.open("xb") as out:
        source.seek(image.offset)
        while done < image.length:
            chunk = source.read(min(CHUNK, image.length - done))
            if not chunk:
                raise ImageRejected(f"{image.path.name} ended in the middle of a disk image.")
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done)


def _open_directory(directory: Path) -> None:
    """The image's directory, open to QEMU's user."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o755)
