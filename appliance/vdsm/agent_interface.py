"""The host agent as the engine sees it: the verbs it may call on a host (``HostAgent``),
what it sends to start a VM (``LaunchRequest``: ids, sizes, devices by storage domain and
network name) and what a host reports of its domains.

Host-neutral on purpose: the engine never learns paths, bridges or whether a VM runs under
KVM or TCG; ``agent.LocalHostAgent`` turns these into libvirt calls on the host.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import libvirt

from appliance.vdsm import ksm, stats
from appliance.vdsm import migration as vdsm_migration
from appliance.vdsm import networks as vdsm_networks
from appliance.vdsm.backup_interface import BackupStart, BackupStarted, CheckpointRecord
from appliance.vdsm.displays import GraphicsInfo
from appliance.vdsm.host import HostFacts
from appliance.vdsm.imageio.control import TicketStatus
from appliance.vdsm.imageio.transfers import TransferEndpoint, TransferOpen
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


class DomainState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SHUTTING_DOWN = "shutting_down"
    SHUTOFF = "shutoff"
    CRASHED = "crashed"
    SUSPENDED = "suspended"  # guest power management (S3)

    @classmethod
    def from_libvirt(cls, state: int) -> DomainState:
        return {
            libvirt.VIR_DOMAIN_PAUSED: cls.PAUSED,
            libvirt.VIR_DOMAIN_SHUTDOWN: cls.SHUTTING_DOWN,
            libvirt.VIR_DOMAIN_SHUTOFF: cls.SHUTOFF,
            libvirt.VIR_DOMAIN_CRASHED: cls.CRASHED,
            libvirt.VIR_DOMAIN_PMSUSPENDED: cls.SUSPENDED,
        }.get(state, cls.RUNNING)


@dataclass(frozen=True)
class DomainInfo:
    name: str
    uuid: str
    state: DomainState
    ours: bool  # carries this appliance's metadata
    pause_reason: int = 0


@dataclass(frozen=True)
class LaunchDisk:
    storage_domain_id: str
    image_id: str
    volume_id: str  # the top of the image's chain
    interface: str = "virtio"
    bootable: bool = False
    read_only: bool = False
    format: str = "qcow2"

    @property
    def volume(self) -> VolumeId:
        return VolumeId(self.storage_domain_id, self.image_id, self.volume_id)


@dataclass(frozen=True)
class LaunchNic:
    mac: str
    network: str
    model: str = "virtio"
    linked: bool = True
    vlan: int = 0  # the network's VLAN tag; 0: untagged
    mtu: int = 0  # the network's MTU; 0: the default

    @property
    def need(self) -> vdsm_networks.NetworkNeed:
        return vdsm_networks.NetworkNeed(self.network, vlan=self.vlan, mtu=self.mtu)


@dataclass(frozen=True)
class LaunchRequest:
    vm_id: str
    name: str
    memory: int
    vcpus: int
    disks: tuple[LaunchDisk, ...] = ()
    nics: tuple[LaunchNic, ...] = ()
    cdrom: VolumeId | None = None  # an ISO image's volume
    boot: tuple[str, ...] = ("hd",)
    graphics: tuple[str, ...] = ("vnc",)  # its displays: "vnc", "spice" or both
    console_password: str = ""  # every display's; "" for a random one each
    # A memory snapshot's saved RAM: the guest resumes from it instead of booting.
    restore_from: VolumeId | None = None
    serial_number: str = ""  # what the guest reads in SMBIOS; "" for QEMU's default


LifecycleHandler = Callable[[str, str, int, int], None]  # host id, vm id, event, detail


class HostAgent(Protocol):
    host_id: str

    def facts(self, *, with_uuid: bool = True) -> HostFacts: ...
    def domains(self) -> list[DomainInfo]: ...
    def statistics(self) -> stats.AgentSample: ...
    def domain_state(self, vm_id: str) -> DomainState | None: ...
    def launch(self, request: LaunchRequest) -> None: ...
    def shutdown(self, vm_id: str) -> None: ...
    def power_off(self, vm_id: str) -> None: ...
    def reboot(self, vm_id: str) -> None: ...
    def reset(self, vm_id: str) -> None: ...
    def pause(self, vm_id: str) -> None: ...
    def resume(self, vm_id: str) -> None: ...
    def save_state(self, vm_id: str, target: VolumeId) -> None: ...
    def console_paths(self, vm_id: str) -> tuple[Path, Path]: ...
    def open_serial(self, vm_id: str) -> socket.socket: ...
    def serial_backlog(self, vm_id: str, *, limit: int) -> bytes: ...
    def migrate(self, vm_id: str, *, peer_uri: str, migrate_uri: str,
                bandwidth_mib: int = 0) -> None: ...
    def migration_progress(self, vm_id: str) -> vdsm_migration.MigrationProgress | None: ...
    def abort_migration(self, vm_id: str) -> None: ...
    def last_migration_downtime_ms(self, vm_id: str) -> int: ...
    @property
    def reachable(self) -> bool: ...
    def networks(self) -> frozenset[str]: ...
    def carries_untagged_networks(self) -> bool: ...
    def prepare_networks(self, needs: tuple[vdsm_networks.NetworkNeed, ...]) -> None: ...
    def forget_network(self, name: str) -> None: ...
    def cpu_time_ns(self) -> int: ...
    def ksm_tuning(self) -> ksm.KsmTuning | None: ...
    def tune_ksm(self, tuning: ksm.KsmTuning) -> None: ...
    def graphics(self, vm_id: str) -> tuple[GraphicsInfo, ...]: ...
    def set_graphics_password(self, vm_id: str, *, protocol: str, password: str,
                              valid_until: float) -> None: ...
    # Storage domains: told once where each lives, then named by id
    def connect_storage_domain(self, connection: StorageConnection) -> None: ...
    def disconnect_storage_domain(self, storage_domain_id: str) -> None: ...
    def storage_stats(self, storage_domain_id: str) -> DomainStats: ...
    def storage_volumes(self, storage_domain_id: str) -> frozenset[VolumeId]: ...
    def delete_image(self, *, storage_domain_id: str, image_id: str) -> None: ...
    # Volumes and their chains (snapshots, templates, copies)
    def create_volume(self, volume: VolumeId, *, size: int, fmt: str = "qcow2",
                      parent: VolumeId | None = None, parent_format: str = "") -> None: ...
    def volume_info(self, volume: VolumeId, *, fmt: str) -> VolumeInfo: ...
    def resize_volume(self, volume: VolumeId, *, size: int, fmt: str = "qcow2",
                      vm_id: str | None = None) -> None: ...
    def allocated_size(self, volume: VolumeId) -> int: ...
    def delete_volume(self, volume: VolumeId) -> None: ...
    def set_volume_read_only(self, volume: VolumeId, read_only: bool) -> None: ...
    def change_cdrom(self, vm_id: str, iso: VolumeId | None) -> None: ...
    def sparsify_volume(self, volume: VolumeId, *, fmt: str,
                        progress: Progress | None = None) -> Sparsified: ...
    def snapshot_live(self, vm_id: str, layers: tuple[LiveLayer, ...], *,
                      memory: VolumeId | None) -> None: ...
    def commit_volume(self, *, top: VolumeId, base: VolumeId, child: VolumeId | None,
                      vm_id: str | None) -> None: ...
    def collapse_volume(self, source: VolumeId, target: VolumeId, *, fmt: str = "qcow2",
                        source_format: str = "qcow2",
                        progress: Progress | None = None) -> None: ...
    # Images from outside the domains: imports, exports, uploads
    def inspect_image(self, image: ForeignImage) -> VolumeInfo: ...
    def import_volume(self, image: ForeignImage, target: VolumeId, *,
                      max_virtual_size: int | None = None, staged: Progress | None = None,
                      progress: Progress | None = None) -> VolumeInfo: ...
    def export_volume(self, source: VolumeId, target: Path, *, source_format: str = "qcow2",
                      progress: Progress | None = None) -> None: ...
    def upload_volume(self, stream: Readable, target: VolumeId) -> int: ...
    # Image transfers through ovirt-imageio (tickets by id; the host resolves the volume)
    def open_image_transfer(self, request: TransferOpen) -> TransferEndpoint: ...
    def image_transfer_status(self, ticket_id: str) -> TicketStatus | None: ...
    def close_image_transfer(self, ticket_id: str, *, volume: VolumeId,
                             commit: bool) -> None: ...
    # Backups of running VMs (libvirt's pull mode) and their checkpoints' bitmaps
    def start_backup(self, request: BackupStart) -> BackupStarted: ...
    def stop_backup(self, vm_id: str, backup_id: str, *,
                    checkpoint_ids: tuple[str, ...] = ()) -> None: ...
    def backup_active(self, vm_id: str, backup_id: str) -> bool: ...
    def remove_checkpoint(self, checkpoint: CheckpointRecord, *, vm_id: str | None,
                          chains: dict[str, tuple[VolumeId, ...]]) -> None: ...

