"""A VM backup and a checkpoint as the engine records them.

Phases are oVirt's (``BackupPhase``): initializing, starting, ready (its disks can be
downloaded), finalizing, then succeeded, or failed at any step. A checkpoint marks the point
in time an incremental backup starts from; it is made by a backup, and oVirt keeps them in a
chain (each one's parent the one made before it).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BackupPhase(StrEnum):
    INITIALIZING = "initializing"
    STARTING = "starting"
    READY = "ready"
    FINALIZING = "finalizing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (BackupPhase.SUCCEEDED, BackupPhase.FAILED)


class CheckpointState(StrEnum):
    CREATED = "created"
    INVALID = "invalid"  # its bitmaps no longer tell what changed (a snapshot was restored)


class DiskBackupMode(StrEnum):
    FULL = "full"
    INCREMENTAL = "incremental"


@dataclass(frozen=True)
class VmBackup:
    id: str
    vm_id: str
    phase: BackupPhase
    host_id: str
    disk_ids: tuple[str, ...]
    owner: str
    owner_id: str
    from_checkpoint_id: str = ""
    to_checkpoint_id: str = ""  # set once the host has made the checkpoint
    description: str = ""
    # disk id -> how its data is served (incremental only where the checkpoint allows)
    modes: tuple[tuple[str, DiskBackupMode], ...] = ()
    created: float = 0.0
    modified: float = 0.0
    message: str = ""  # why it failed

    def mode(self, disk_id: str) -> DiskBackupMode:
        return dict(self.modes).get(disk_id, DiskBackupMode.FULL)


@dataclass(frozen=True)
class VmCheckpoint:
    id: str
    vm_id: str
    created: float
    disk_ids: tuple[str, ...]  # the qcow2 disks that carry its bitmap
    parent_id: str = ""
    state: CheckpointState = CheckpointState.CREATED
    description: str = ""
