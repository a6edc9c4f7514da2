"""Backups as the engine asks a host for them: the VM and its disks by ids, the checkpoint
to start from as the engine records it; the host answers how it serves each disk."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.vdsm.storage_interface import VolumeId

FULL = "full"
INCREMENTAL = "incremental"


@dataclass(frozen=True)
class CheckpointRecord:
    """A checkpoint as the engine keeps it: its bitmap's name is its id."""

    id: str
    created: float
    image_ids: tuple[str, ...]  # the disks (images) whose volumes carry its bitmap


@dataclass(frozen=True)
class BackupDisk:
    image_id: str
    volume: VolumeId  # the disk's top volume, as QEMU runs it
    format: str  # qcow2 or raw; only qcow2 disks carry checkpoints


@dataclass(frozen=True)
class BackupStart:
    backup_id: str
    vm_id: str
    disks: tuple[BackupDisk, ...]
    from_checkpoint: CheckpointRecord | None = None  # None: a full backup
    to_checkpoint_id: str | None = None  # the checkpoint to make over the qcow2 disks


@dataclass(frozen=True)
class BackupStarted:
    modes: tuple[tuple[str, str], ...]  # image id -> full or incremental, as QEMU serves it
