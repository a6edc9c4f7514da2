"""A file storage domain: a directory (the RAM domain is one on tmpfs or zram).

Layout, as VDSM's: ``<root>/<domain id>/images/<image id>/<volume id>``. Every directory on
the way is world-traversable, because QEMU runs as libvirt's unprivileged user.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.storage import ram, volume
from appliance.vdsm.storage_interface import DomainStats, VolumeId


@dataclass(frozen=True)
class VolumeFile:
    """A volume and the file that holds it on this host."""

    id: VolumeId
    path: Path

    def sibling(self, volume_id: str) -> VolumeFile:
        return VolumeFile(self.id.sibling(volume_id), self.path.with_name(volume_id))


@dataclass(frozen=True)
class FileStorageDomain:
    root: Path
    id: str

    @property
    def images_dir(self) -> Path:
        return self.root / self.id / "images"

    def attach(self) -> None:
        """Make the layout, opening each level to QEMU's user."""
        for directory in (self.root, self.root / self.id, self.images_dir):
            directory.mkdir(exist_ok=True, parents=True)
            directory.chmod(0o755)

    def stats(self) -> DomainStats:
        st = os.statvfs(self.root)
        capacity = st.f_blocks * st.f_frsize
        free = st.f_bavail * st.f_frsize
        used = capacity - st.f_bfree * st.f_frsize
        return DomainStats(capacity=capacity, used=used, free=free,
                           ram=ram.ram_use(self.root, used=used))

    def volume_path(self, *, image_id: str, volume_id: str) -> Path:
        return self.images_dir / image_id / volume_id

    def file(self, volume_id: VolumeId) -> VolumeFile:
        return VolumeFile(volume_id, self.volume_path(image_id=volume_id.image_id,
                                                      volume_id=volume_id.volume_id))

    def create_volume(self, *, image_id: str, volume_id: str, size: int,
                      fmt: str = "qcow2", parent: Path | None = None,
                      parent_format: str = "") -> Path:
        path = self.volume_path(image_id=image_id, volume_id=volume_id)
        path.parent.mkdir(exist_ok=True)
        path.parent.chmod(0o755)
        if path.exists():
            raise HostAgentError(f"volume {volume_id} already exists in image {image_id}")
        if parent is None:
            volume.create(path, size=size, fmt=fmt)
        else:
            if not parent_format:
                raise HostAgentError(f"volume {volume_id}: the format of its parent is needed "
                                     "(it is never probed)")
            volume.create_layer(path, backing=parent, backing_format=parent_format, size=size)
        path.chmod(0o644)
        return path

    def delete_volume(self, *, image_id: str, volume_id: str) -> None:
        self.volume_path(image_id=image_id, volume_id=volume_id).unlink(missing_ok=True)

    def delete_image(self, image_id: str) -> None:
        shutil.rmtree(self.images_dir / image_id, ignore_errors=True)

    def volumes(self) -> frozenset[VolumeId]:
        """Every volume present on disk, for reconciliation."""
        if not self.images_dir.is_dir():
            return frozenset()
        return frozenset(
            VolumeId(self.id, image.name, vol.name)
            for image in self.images_dir.iterdir() if image.is_dir()
            for vol in image.iterdir() if vol.is_file() and not vol.name.startswith(".")
        )
