"""The object model: frozen values, one per kind of object the engine manages.

Sizes are bytes and times are seconds since the epoch, as oVirt's API counts them. Objects
are replaced, never mutated: ``dataclasses.replace(vm, status=VmStatus.UP)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from appliance.config import VirtType
from appliance.engine.enums import (
    AffinityPolarity,
    BootDevice,
    DiskContentType,
    DiskFormat,
    DiskInterface,
    DiskStatus,
    DisplayType,
    EventSeverity,
    HostKind,
    HostStatus,
    JobStatus,
    NetworkUsage,
    NicInterface,
    QuotaMode,
    SchedulingPolicyName,
    SerialNumberPolicy,
    SnapshotStatus,
    SnapshotType,
    StorageDomainStatus,
    StorageDomainType,
    TemplateStatus,
    VmAffinity,
    VmStatus,
)
from appliance.engine.event_codes import EventCode

BLANK_TEMPLATE_ID = "00000000-0000-0000-0000-000000000000"
DEFAULT_MAC_POOL_ID = "58ca604b-017d-0374-0220-000000000000"  # oVirt's Default pool's
# A VM's displays unless it asks otherwise: VNC for the web console (noVNC speaks only
# VNC) and SPICE for oVirt's clients and remote-viewer, each with its own one-time password.
DEFAULT_GRAPHICS: tuple[DisplayType, ...] = (DisplayType.VNC, DisplayType.SPICE)
MiB = 1024 * 1024
GiB = 1024 * MiB


def display_of(graphics: tuple[DisplayType, ...]) -> DisplayType:
    """The one display type oVirt's API shows for a VM's consoles: SPICE when it has one."""
    return DisplayType.SPICE if DisplayType.SPICE in graphics else DisplayType.VNC


@dataclass(frozen=True)
class DataCenter:
    id: str
    name: str
    description: str = ""
    local: bool = True
    comment: str = ""
    quota_mode: QuotaMode = QuotaMode.DISABLED


@dataclass(frozen=True)
class AffinityRule:
    """One side of an affinity group: its VMs with each other, or its VMs with its hosts. An
    enforcing rule filters hosts in the scheduler; a non-enforcing one only weighs."""

    polarity: AffinityPolarity = AffinityPolarity.DISABLED
    enforcing: bool = False

    @property
    def enabled(self) -> bool:
        return self.polarity is not AffinityPolarity.DISABLED

    @property
    def positive(self) -> bool:
        return self.polarity is AffinityPolarity.POSITIVE


@dataclass(frozen=True)
class AffinityGroup:
    """VMs that should (positive) or should not (negative) share a host (``vms_rule``), and
    run on, or away from, the group's hosts (``hosts_rule``); labels stand for the VMs and
    hosts that carry them."""

    id: str
    cluster_id: str
    name: str
    description: str = ""
    priority: float = 1.0
    vms_rule: AffinityRule = AffinityRule()
    hosts_rule: AffinityRule = AffinityRule()
    vm_ids: tuple[str, ...] = ()
    host_ids: tuple[str, ...] = ()
    vm_label_ids: tuple[str, ...] = ()
    host_label_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AffinityLabel:
    """A name VMs and hosts carry, so affinity groups can name them all at once."""

    id: str
    name: str
    vm_ids: tuple[str, ...] = ()
    host_ids: tuple[str, ...] = ()
    read_only: bool = False


@dataclass(frozen=True)
class ClusterNetwork:
    """A logical network of the cluster's data center, attached to the cluster."""

    network_id: str
    required: bool = True


@dataclass(frozen=True)
class Cluster:
    id: str
    name: str
    data_center_id: str
    description: str = ""
    scheduling_policy: SchedulingPolicyName = SchedulingPolicyName.NONE
    # oVirt's policy properties by name, e.g. ("HighUtilization", "80"); unset ones default
    scheduling_properties: tuple[tuple[str, str], ...] = ()
    comment: str = ""
    cpu_type: str = ""  # oVirt's CPU type name ("Intel Nehalem Family"); "" as the hosts have
    networks: tuple[ClusterNetwork, ...] = ()  # the logical networks its hosts must have
    mac_pool_id: str = ""  # "" is the Default pool
    # oVirt's memory optimization: VMs may be promised this share of a host's memory
    # (100: none, 150: server load, 200: desktop load), KSM and ballooning make up the rest.
    memory_overcommit_percent: int = 100


@dataclass(frozen=True)
class Host:
    id: str
    name: str
    cluster_id: str
    address: str
    status: HostStatus
    libvirt_uri: str
    memory: int = 0
    cpus: int = 0
    virt_type: VirtType = VirtType.QEMU  # kvm or qemu
    cpu_model: str = ""
    description: str = ""
    kind: HostKind = HostKind.LOCAL
    migration_address: str = ""  # where QEMU receives migrations; "" when it cannot
    power_management: str = ""  # "lab", "ipmi:ADDRESS:USER", "wol:MAC" or "" for none
    standby: bool = False  # switched off by the power saver, back when load rises
    host_uuid: str = ""
    comment: str = ""
    spm_priority: int = 5  # oVirt's default; -1 never SPM, 10 first choice
    kernel_cmdline: str = ""  # oVirt's custom_kernel_cmdline: kept, used at a reinstall
    pm_enabled: bool = True  # power management used when the host has an agent
    kdump_detection: bool = True
    automatic_pm: bool = True  # the power saver may switch it off and on


@dataclass(frozen=True)
class StorageDomain:
    id: str
    name: str
    path: str
    data_center_id: str | None
    type: StorageDomainType = StorageDomainType.DATA
    status: StorageDomainStatus = StorageDomainStatus.ACTIVE
    backing: str = "directory"
    overcommit_percent: int = 400
    description: str = ""


@dataclass(frozen=True)
class DiskProfile:
    """oVirt's disk profile (QoS for the disks of a domain): each storage domain has one,
    named after it, with no limits."""

    id: str
    name: str
    storage_domain_id: str


@dataclass(frozen=True)
class Disk:
    """oVirt's disk, VDSM's image: a chain of volumes of which ``volume_id`` is the top."""

    id: str
    name: str
    storage_domain_id: str
    provisioned_size: int
    volume_id: str
    format: DiskFormat = DiskFormat.COW
    sparse: bool = True
    status: DiskStatus = DiskStatus.OK
    description: str = ""
    template_id: str | None = None  # a template's own disk
    shareable: bool = False
    created: float = 0.0
    content_type: DiskContentType = DiskContentType.DATA
    sha256: str = ""  # of an uploaded ISO
    owner_id: str | None = None  # who made it, when not an administrator (free disks)


@dataclass(frozen=True)
class Volume:
    """One qcow2 layer; ``parent_id`` is the layer below (a snapshot or a template's base)."""

    id: str
    disk_id: str
    storage_domain_id: str
    parent_id: str | None
    format: DiskFormat = DiskFormat.COW
    created: float = 0.0


@dataclass(frozen=True)
class DiskAttachment:
    id: str  # oVirt names an attachment by its disk's id
    vm_id: str
    disk_id: str
    interface: DiskInterface = DiskInterface.VIRTIO
    bootable: bool = False
    active: bool = True
    read_only: bool = False


@dataclass(frozen=True)
class SerialNumber:
    policy: SerialNumberPolicy
    value: str = ""  # CUSTOM's


@dataclass(frozen=True)
class VmPlacement:
    """Where a VM may run: on the hosts named (none: any host of its cluster), and whether it
    may move."""

    affinity: VmAffinity = VmAffinity.MIGRATABLE
    host_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Vm:
    id: str
    name: str
    cluster_id: str
    memory: int
    template_id: str = BLANK_TEMPLATE_ID
    status: VmStatus = VmStatus.DOWN
    host_id: str | None = None
    description: str = ""
    cpu_sockets: int = 1
    cpu_cores: int = 1
    cpu_threads: int = 1
    os_type: str = "other"
    graphics: tuple[DisplayType, ...] = DEFAULT_GRAPHICS  # its graphical consoles
    boot: tuple[BootDevice, ...] = (BootDevice.HD,)
    cdrom_file_id: str = ""
    high_availability: bool = False
    owner_id: str | None = None
    created: float = 0.0
    start_time: float = 0.0
    stop_time: float = 0.0
    stop_reason: str = ""
    memory_guaranteed: int = 0  # 0: all of ``memory``, oVirt's default
    memory_max: int = 0  # 0: four times ``memory``, oVirt's default
    serial_number: SerialNumber | None = None  # None: the cluster's default (the host's)
    placement: VmPlacement = VmPlacement()
    # cloud-init/sysprep settings as a client gave them (oVirt's <initialization>), by
    # element path: kept and answered back; VirtStick's guests do not read them
    initialization: tuple[tuple[str, str], ...] = ()
    lease_storage_domain_id: str = ""  # where oVirt would keep an HA VM's lease; kept
    saved_state_disk_id: str = ""  # a suspended VM's saved RAM and devices (suspension.py)

    @property
    def vcpus(self) -> int:
        return self.cpu_sockets * self.cpu_cores * self.cpu_threads

    @property
    def display(self) -> DisplayType:
        return display_of(self.graphics)

    @property
    def guaranteed_memory(self) -> int:
        return self.memory_guaranteed or self.memory

    @property
    def max_memory(self) -> int:
        return self.memory_max or 4 * self.memory


@dataclass(frozen=True)
class Nic:
    id: str
    vm_id: str
    name: str
    mac: str
    vnic_profile_id: str | None
    interface: NicInterface = NicInterface.VIRTIO
    plugged: bool = True
    linked: bool = True


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    data_center_id: str
    description: str = ""
    vm: bool = True
    mtu: int = 0  # 0: the default (1500)
    vlan_id: int = 0  # 0: untagged
    comment: str = ""
    usages: tuple[NetworkUsage, ...] = ()  # besides VM (``vm``)

    @property
    def all_usages(self) -> tuple[NetworkUsage, ...]:
        return ((NetworkUsage.VM,) if self.vm else ()) + self.usages


@dataclass(frozen=True)
class VnicProfile:
    id: str
    name: str
    network_id: str
    description: str = ""


@dataclass(frozen=True)
class MacRange:
    start: str  # lower case, colon separated
    end: str


@dataclass(frozen=True)
class MacPool:
    """Where a cluster's NICs get their MAC addresses (oVirt's MAC address pools)."""

    id: str
    name: str
    ranges: tuple[MacRange, ...]
    description: str = ""
    allow_duplicates: bool = False
    default_pool: bool = False


@dataclass(frozen=True)
class QuotaClusterLimit:
    """Memory (GiB) and vCPUs the VMs of one cluster (``cluster_id``; "" every cluster of
    the data center) may have under a quota; -1 is unlimited. oVirt names the limit by its
    cluster's id (the quota's own for the global one)."""

    cluster_id: str
    memory_gib: float = -1
    vcpus: int = -1


@dataclass(frozen=True)
class QuotaStorageLimit:
    """GiB the disks on one storage domain ("" every domain) may have; -1 unlimited."""

    storage_domain_id: str
    limit_gib: int = -1


@dataclass(frozen=True)
class Quota:
    id: str
    name: str
    data_center_id: str
    description: str = ""
    cluster_hard_limit_pct: int = 20  # how far past a limit oVirt still allows
    cluster_soft_limit_pct: int = 80  # from where it warns
    storage_hard_limit_pct: int = 20
    storage_soft_limit_pct: int = 80
    cluster_limits: tuple[QuotaClusterLimit, ...] = ()
    storage_limits: tuple[QuotaStorageLimit, ...] = ()


@dataclass(frozen=True)
class InstanceType:
    """A VM's size by name (oVirt's Tiny ... XLarge, or an administrator's): a VM made with
    one takes its memory and CPUs."""

    id: str
    name: str
    memory: int
    description: str = ""
    cpu_sockets: int = 1
    cpu_cores: int = 1
    cpu_threads: int = 1
    high_availability: bool = False
    memory_guaranteed: int = 0  # 0: all of ``memory``
    memory_max: int = 0  # 0: four times ``memory``
    predefined: bool = False

    @property
    def vcpus(self) -> int:
        return self.cpu_sockets * self.cpu_cores * self.cpu_threads


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    cluster_id: str | None
    memory: int = 1 * GiB
    description: str = ""
    status: TemplateStatus = TemplateStatus.OK
    cpu_sockets: int = 1
    cpu_cores: int = 1
    cpu_threads: int = 1
    os_type: str = "other"
    graphics: tuple[DisplayType, ...] = DEFAULT_GRAPHICS
    boot: tuple[BootDevice, ...] = (BootDevice.HD,)
    version_number: int = 1
    version_name: str = ""
    base_template_id: str | None = None
    created: float = 0.0
    memory_guaranteed: int = 0  # 0: all of ``memory``, oVirt's default
    memory_max: int = 0  # 0: four times ``memory``, oVirt's default
    ballooning: bool = True

    @property
    def display(self) -> DisplayType:
        return display_of(self.graphics)


@dataclass(frozen=True)
class Snapshot:
    id: str
    vm_id: str
    description: str
    type: SnapshotType = SnapshotType.REGULAR
    status: SnapshotStatus = SnapshotStatus.OK
    persist_memorystate: bool = False
    date: float = 0.0
    # disk id -> the volume that was the disk's top when the snapshot was taken
    volumes: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    memory_disk_id: str = ""  # the disk holding the guest's saved RAM (persist_memorystate)


@dataclass(frozen=True)
class Event:
    id: int
    time: float
    severity: EventSeverity
    code: EventCode
    description: str
    vm_id: str | None = None
    host_id: str | None = None
    storage_domain_id: str | None = None
    user: str = ""
    correlation_id: str = ""


@dataclass(frozen=True)
class Job:
    id: str
    description: str
    status: JobStatus
    start_time: float
    end_time: float = 0.0
    progress: int = 0
    correlation_id: str = ""
    owner: str = ""
    error: str = ""
    vm_id: str | None = None
    external: bool = False  # added by a client (POST /jobs), which also ends it
    auto_cleared: bool = True
