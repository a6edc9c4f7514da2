"""The storage domains one host is connected to, and every operation on their volumes by id.

The engine connects each domain once (its id and where this host reaches it); afterwards
requests name volumes by ids only and this module turns them into files (VDSM's storage
repository). Live operations, which need the running VM, are in ``live``; the host agent
resolves their volumes here.
"""

from __future__ import annotations

import threading
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.storage import chain, foreign, sparsify, volume
from appliance.vdsm.storage.domain import FileStorageDomain, VolumeFile
from appliance.vdsm.storage.live import LayerFiles
from appliance.vdsm.storage_interface import (
    DomainStats,
    ForeignImage,
    LiveLayer,
    Progress,
    Readable,
    Sparsified,
    StorageConnection,
    VolumeId,
    VolumeInfo,
)


class Repository:
    def __init__(self, host_id: str) -> None:
        self.host_id = host_id
        self._guard = threading.Lock()
        self._domains: dict[str, FileStorageDomain] = {}

    # Connections

    def connect(self, connection: StorageConnection) -> None:
        """Make the domain's layout (idempotent) and remember where it lives."""
        domain = FileStorageDomain(Path(connection.path), connection.storage_domain_id)
        try:
            domain.attach()
        except OSError as exc:
            raise HostAgentError(f"host {self.host_id} cannot use storage domain "
                                 f"{domain.id} at {connection.path}: {exc.strerror}") from None
        with self._guard:
            self._domains[domain.id] = domain

    def disconnect(self, storage_domain_id: str) -> None:
        with self._guard:
            self._domains.pop(storage_domain_id, None)

    def domain(self, storage_domain_id: str) -> FileStorageDomain:
        with self._guard:
            found = self._domains.get(storage_domain_id)
        if found is None:
            raise HostAgentError(f"storage domain {storage_domain_id} is not connected to "
                                 f"host {self.host_id}")
        return found

    def file(self, volume_id: VolumeId) -> VolumeFile:
        return self.domain(volume_id.storage_domain_id).file(volume_id)

    def new_file(self, volume_id: VolumeId) -> VolumeFile:
        """A volume about to be written by someone else (libvirt saving a guest's RAM): its
        image's directory is made, open to QEMU's user."""
        found = self.file(volume_id)
        found.path.parent.mkdir(parents=True, exist_ok=True)
        found.path.parent.chmod(0o755)
        return found

    def volume_path(self, volume_id: VolumeId) -> Path:
        """Where the volume is on this host: for QEMU and host-side services, never for the
        engine."""
        return self.file(volume_id).path

    def layer_files(self, layer: LiveLayer) -> LayerFiles:
        return LayerFiles(current=self.file(layer.current), new=self.file(layer.new))

    # Domains

    def stats(self, storage_domain_id: str) -> DomainStats:
        return self.domain(storage_domain_id).stats()

    def volumes(self, storage_domain_id: str) -> frozenset[VolumeId]:
        return self.domain(storage_domain_id).volumes()

    def delete_image(self, *, storage_domain_id: str, image_id: str) -> None:
        self.domain(storage_domain_id).delete_image(image_id)

    # Volumes

    def create_volume(self, volume_id: VolumeId, *, size: int, fmt: str = "qcow2",
                      parent: VolumeId | None = None, parent_format: str = "") -> None:
        domain = self.domain(volume_id.storage_domain_id)
        domain.create_volume(image_id=volume_id.image_id, volume_id=volume_id.volume_id,
                             size=size, fmt=fmt,
                             parent=self.volume_path(parent) if parent is not None else None,
                             parent_format=parent_format)

    def allocated(self, volume_id: VolumeId) -> int:
        """Bytes the volume's file takes on the host (what qemu-img calls its actual size),
        without running qemu-img: lists of disks ask it of every volume."""
        try:
            return self.volume_path(volume_id).stat().st_blocks * 512
        except FileNotFoundError:
            return 0

    def resize(self, volume_id: VolumeId, *, size: int, fmt: str = "qcow2") -> None:
        volume.resize(self.volume_path(volume_id), size=size, fmt=fmt)

    def volume_info(self, volume_id: VolumeId, *, fmt: str) -> VolumeInfo:
        """``fmt``: the volume's format as the engine knows it (never probed)."""
        return volume.info(self.volume_path(volume_id), fmt=fmt)

    def delete_volume(self, volume_id: VolumeId) -> None:
        chain.delete(self.file(volume_id))

    def sparsify(self, volume_id: VolumeId, *, fmt: str,
                 progress: Progress | None = None) -> Sparsified:
        return sparsify.sparsify(self.file(volume_id), fmt=fmt, progress=progress)

    def set_read_only(self, volume_id: VolumeId, read_only: bool) -> None:
        chain.set_read_only(self.file(volume_id), read_only)

    def commit_down(self, *, top: VolumeId, base: VolumeId, child: VolumeId | None) -> None:
        chain.commit_down(top=self.file(top), base=self.file(base),
                          child=self.file(child) if child is not None else None)

    def collapse(self, source: VolumeId, target: VolumeId, *, fmt: str = "qcow2",
                 source_format: str = "qcow2", progress: Progress | None = None) -> None:
        chain.collapse(self.file(source), self.file(target), fmt=fmt,
                       source_format=source_format, progress=progress)

    # Images from outside the domains

    def inspect(self, image: ForeignImage) -> VolumeInfo:
        return foreign.inspect(image)

    def bring_in(self, image: ForeignImage, target: VolumeId, *, max_virtual_size: int | None,
                 staged: Progress | None, progress: Progress | None) -> VolumeInfo:
        return foreign.bring_in(image, self.file(target), max_virtual_size=max_virtual_size,
                                staged=staged, progress=progress)

    def receive(self, stream: Readable, target: VolumeId) -> int:
        return foreign.receive(stream, self.file(target))

    def export(self, source: VolumeId, target: Path, *, source_format: str = "qcow2",
               progress: Progress | None = None) -> None:
        chain.export(self.file(source), target, source_format=source_format, progress=progress)
