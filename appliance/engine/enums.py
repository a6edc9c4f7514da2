"""Every status and kind of the object model, with oVirt's spelling of the values."""

from __future__ import annotations

from enum import StrEnum


class VmStatus(StrEnum):
    DOWN = "down"
    IMAGE_LOCKED = "image_locked"
    MIGRATING = "migrating"
    NOT_RESPONDING = "not_responding"
    PAUSED = "paused"
    POWERING_DOWN = "powering_down"
    POWERING_UP = "powering_up"
    REBOOT_IN_PROGRESS = "reboot_in_progress"
    RESTORING_STATE = "restoring_state"
    SAVING_STATE = "saving_state"
    SUSPENDED = "suspended"
    UNASSIGNED = "unassigned"
    UNKNOWN = "unknown"
    UP = "up"
    WAIT_FOR_LAUNCH = "wait_for_launch"

    @property
    def is_running(self) -> bool:
        """A QEMU process exists for the VM (it holds memory and can be reached)."""
        return self not in (VmStatus.DOWN, VmStatus.SUSPENDED, VmStatus.IMAGE_LOCKED,
                            VmStatus.UNASSIGNED)


class HostStatus(StrEnum):
    UP = "up"
    MAINTENANCE = "maintenance"
    PREPARING_FOR_MAINTENANCE = "preparing_for_maintenance"
    NON_OPERATIONAL = "non_operational"
    NON_RESPONSIVE = "non_responsive"
    CONNECTING = "connecting"
    DOWN = "down"


class HostKind(StrEnum):
    """Where a host's libvirtd runs: this machine, a lab host on it, another machine."""

    LOCAL = "local"
    LAB = "lab"
    REMOTE = "remote"


class SchedulingPolicyName(StrEnum):
    """oVirt's cluster scheduling policies."""

    NONE = "none"
    EVENLY_DISTRIBUTED = "evenly_distributed"
    VM_EVENLY_DISTRIBUTED = "vm_evenly_distributed"
    POWER_SAVING = "power_saving"


class MaintenancePolicy(StrEnum):
    """What maintenance does with a VM that no other host can take."""

    MIGRATE = "migrate"  # refuse unless every VM can migrate
    SHUTDOWN = "shutdown"
    SUSPEND = "suspend"


class StorageDomainStatus(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    UNATTACHED = "unattached"
    INACTIVE = "inactive"


class StorageDomainType(StrEnum):
    DATA = "data"
    ISO = "iso"
    EXPORT = "export"


class DiskStatus(StrEnum):
    OK = "ok"
    LOCKED = "locked"
    ILLEGAL = "illegal"


class DiskContentType(StrEnum):
    """What a disk holds, as oVirt names it: guest data, an ISO image, a saved guest RAM."""

    DATA = "data"
    ISO = "iso"
    MEMORY_DUMP = "memory_dump_volume"


class DiskFormat(StrEnum):
    COW = "cow"  # qcow2
    RAW = "raw"

    @property
    def qemu_format(self) -> str:
        return "qcow2" if self is DiskFormat.COW else "raw"


class DiskInterface(StrEnum):
    VIRTIO = "virtio"
    VIRTIO_SCSI = "virtio_scsi"
    SATA = "sata"
    IDE = "ide"


class NicInterface(StrEnum):
    VIRTIO = "virtio"
    E1000 = "e1000"
    RTL8139 = "rtl8139"


class DisplayType(StrEnum):
    VNC = "vnc"
    SPICE = "spice"


class SerialNumberPolicy(StrEnum):
    """Where the serial number a guest reads (SMBIOS) comes from, as oVirt names it."""

    HOST = "host"  # the host's
    VM = "vm"  # the VM's id
    CUSTOM = "custom"  # a value given


class VmAffinity(StrEnum):
    """Whether a VM may leave its host (oVirt's placement policy affinity)."""

    MIGRATABLE = "migratable"
    USER_MIGRATABLE = "user_migratable"  # only when a user asks, never by the engine
    PINNED = "pinned"  # never


class QuotaMode(StrEnum):
    """A data center's quota mode, as oVirt spells it: ``enabled`` is enforced, ``audit``
    only reports what would have been refused."""

    DISABLED = "disabled"
    AUDIT = "audit"
    ENABLED = "enabled"


class NetworkUsage(StrEnum):
    VM = "vm"
    MANAGEMENT = "management"
    DISPLAY = "display"
    MIGRATION = "migration"
    DEFAULT_ROUTE = "default_route"
    GLUSTER = "gluster"


class TemplateStatus(StrEnum):
    OK = "ok"
    LOCKED = "locked"
    ILLEGAL = "illegal"


class SnapshotStatus(StrEnum):
    OK = "ok"
    LOCKED = "locked"
    IN_PREVIEW = "in_preview"


class SnapshotType(StrEnum):
    ACTIVE = "active"
    REGULAR = "regular"
    PREVIEW = "preview"


class JobStatus(StrEnum):
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"
    ABORTED = "aborted"
    UNKNOWN = "unknown"

    @property
    def ended(self) -> bool:
        return self is not JobStatus.STARTED


class PoolType(StrEnum):
    """automatic: a VM returns to its pool, its changes dropped, when it goes down;
    manual: its user keeps it until it is detached."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


class AffinityPolarity(StrEnum):
    """What an affinity rule asks: nothing, together (positive) or apart (negative)."""

    DISABLED = "disabled"
    POSITIVE = "positive"
    NEGATIVE = "negative"


class StepType(StrEnum):
    """oVirt's kinds of job step."""

    VALIDATING = "validating"
    EXECUTING = "executing"
    FINALIZING = "finalizing"
    REBALANCING_VOLUME = "rebalancing_volume"
    REMOVING_BRICKS = "removing_bricks"
    UNKNOWN = "unknown"


class EventSeverity(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"
    ERROR = "error"
    ALERT = "alert"


class BootDevice(StrEnum):
    HD = "hd"
    CDROM = "cdrom"
    NETWORK = "network"
