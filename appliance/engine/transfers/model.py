"""An image transfer as the engine records it: which volume, which way, and its phase.

Phases and their order are oVirt's (``ImageTransferPhase``): initializing, transferring,
then finalizing_success and finished_success; a user's cancel goes through cancelled_user,
finalizing_cleanup and finished_cleanup, a system's (inactivity, a lost ticket) through
cancelled_system, finalizing_failure and finished_failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.vdsm.imageio.transfers import TransferDirection, TransferFormat


class TransferPhase(StrEnum):
    UNKNOWN = "unknown"
    INITIALIZING = "initializing"
    TRANSFERRING = "transferring"
    RESUMING = "resuming"
    PAUSED_SYSTEM = "paused_system"
    PAUSED_USER = "paused_user"
    CANCELLED_SYSTEM = "cancelled_system"
    CANCELLED_USER = "cancelled_user"
    FINALIZING_SUCCESS = "finalizing_success"
    FINALIZING_FAILURE = "finalizing_failure"
    FINALIZING_CLEANUP = "finalizing_cleanup"
    FINISHED_SUCCESS = "finished_success"
    FINISHED_FAILURE = "finished_failure"
    FINISHED_CLEANUP = "finished_cleanup"

    @property
    def finished(self) -> bool:
        return self in (TransferPhase.FINISHED_SUCCESS, TransferPhase.FINISHED_FAILURE,
                        TransferPhase.FINISHED_CLEANUP)

    @property
    def cancellable(self) -> bool:
        return self in (TransferPhase.INITIALIZING, TransferPhase.TRANSFERRING,
                        TransferPhase.RESUMING, TransferPhase.PAUSED_SYSTEM,
                        TransferPhase.PAUSED_USER)


class TimeoutPolicy(StrEnum):
    """What an inactive transfer becomes: cancelled (``legacy`` and ``cancel``) or paused,
    keeping its disk locked until a user cancels it."""

    LEGACY = "legacy"
    PAUSE = "pause"
    CANCEL = "cancel"


@dataclass(frozen=True)
class ImageTransfer:
    id: str
    disk_id: str
    volume_id: str  # the volume served: the disk's top, or the disk snapshot's
    direction: TransferDirection
    format: TransferFormat
    phase: TransferPhase
    host_id: str
    ticket_id: str  # secret: it is the key to the data, given only in the transfer's URLs
    owner_id: str
    owner: str
    inactivity_timeout: int
    timeout_policy: TimeoutPolicy = TimeoutPolicy.LEGACY
    snapshot_id: str = ""  # the disk snapshot asked for, "" for the disk itself
    shallow: bool = False
    size: int = 0  # bytes the ticket reaches
    port: int = 0  # of the data listener
    transferred: int = 0
    active: bool = False
    created: float = 0.0
    ended: float = 0.0
    message: str = ""  # why it failed or was cancelled
    owns_disk: bool = False  # the disk was made for this upload: it goes if the upload fails
    backup_id: str = ""  # a download of this running backup's disk (the backup locks it)

    @property
    def open(self) -> bool:
        return self.phase in (TransferPhase.TRANSFERRING, TransferPhase.RESUMING)
