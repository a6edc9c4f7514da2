"""Read models of VMs: the rows of the VM list (filtered and sorted), the states the pages
poll, one VM's page and the choices of the New VM dialog."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from appliance.engine.enums import HostStatus, VmStatus
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
    AffinityGroup,
    Cluster,
    Disk,
    DiskAttachment,
    Event,
    Host,
    Nic,
    Snapshot,
    StorageDomain,
    Template,
    Vm,
    VnicProfile,
)
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class VmRow:
    vm: Vm
    host_name: str  # "" when it runs nowhere
    template_name: str


class VmSort(StrEnum):
    """The columns the VM list sorts by (its ``sort`` query parameter)."""

    NAME = "name"
    STATUS = "status"
    HOST = "host"
    TEMPLATE = "template"
    MEMORY = "memory"
    CPUS = "cpus"

    def key(self) -> Callable[[VmRow], tuple[str, int]]:
        by: dict[VmSort, Callable[[VmRow], tuple[str, int]]] = {
            VmSort.NAME: lambda r: (r.vm.name.lower(), 0),
            VmSort.STATUS: lambda r: (r.vm.status.value, 0),
            VmSort.HOST: lambda r: (r.host_name.lower(), 0),
            VmSort.TEMPLATE: lambda r: (r.template_name.lower(), 0),
            VmSort.MEMORY: lambda r: ("", r.vm.memory),
            VmSort.CPUS: lambda r: ("", r.vm.vcpus),
        }
        return by[self]


@dataclass(frozen=True)
class VmQuery:
    """Which VMs the list shows, and in what order."""

    text: str = ""  # in the name or description
    sort: VmSort = VmSort.NAME
    descending: bool = False
    host_id: str = ""  # only the VMs running there
    cluster_id: str = ""


@dataclass(frozen=True)
class VmState:
    """What a page polls every few seconds to update a VM's status and host."""

    id: str
    name: str
    status: VmStatus
    host_name: str


@dataclass(frozen=True)
class AttachedDisk:
    attachment: DiskAttachment
    disk: Disk


@dataclass(frozen=True)
class VmNic:
    nic: Nic
    profile_name: str  # "<empty>": the NIC is on no network


@dataclass(frozen=True)
class VmDetails:
    """Everything a VM's page shows (the User Portal shows a part of it)."""

    vm: Vm
    host: Host | None
    template: Template | None
    disks: tuple[AttachedDisk, ...]
    nics: tuple[VmNic, ...]
    snapshots: tuple[Snapshot, ...]
    events: tuple[Event, ...]
    cdrom: Disk | None
    isos: tuple[Disk, ...]  # what the CD-ROM may take
    cluster: Cluster | None = None
    # The affinity groups of the VM's cluster (the VM is in those that list it).
    affinity_groups: tuple[AffinityGroup, ...] = ()
    migration_targets: tuple[Host, ...] = ()  # other hosts up in its cluster
    profiles: tuple[VnicProfile, ...] = ()  # for a new NIC
    domains: tuple[StorageDomain, ...] = ()  # for a new disk; empty unless a superuser asks

    @property
    def groups_of_vm(self) -> tuple[AffinityGroup, ...]:
        return tuple(g for g in self.affinity_groups if self.vm.id in g.vm_ids)

    @property
    def previewing(self) -> Snapshot | None:
        """The snapshot the VM's disks show now, while a preview is under way."""
        return next((s for s in self.snapshots if s.status.value == "in_preview"), None)


@dataclass(frozen=True)
class NewVmChoices:
    templates: tuple[Template, ...]  # Blank first, then by name
    clusters: tuple[Cluster, ...]
    profiles: tuple[VnicProfile, ...]
    domains: tuple[StorageDomain, ...]
    isos: tuple[Disk, ...]


def vm_rows(store: Store, vms: list[Vm], query: VmQuery | None = None) -> list[VmRow]:
    """The VMs ``query`` keeps, in its order (by name unless it says otherwise)."""
    query = query or VmQuery()
    hosts = {h.id: h.name for h in store.hosts.all()}
    templates = {t.id: t.name for t in store.templates.all()}
    needle = query.text.strip().lower()
    rows = []
    for vm in vms:
        if needle and needle not in vm.name.lower() and needle not in vm.description.lower():
            continue
        if query.host_id and vm.host_id != query.host_id:
            continue
        if query.cluster_id and vm.cluster_id != query.cluster_id:
            continue
        rows.append(VmRow(vm=vm, host_name=hosts.get(vm.host_id or "", ""),
                          template_name=templates.get(vm.template_id, "")))
    # By name first: the sort by the column is stable, so its ties stay in name order,
    # whichever way the column goes.
    rows.sort(key=VmSort.NAME.key())
    if query.sort is not VmSort.NAME or query.descending:
        rows.sort(key=query.sort.key(), reverse=query.descending)
    return rows


def all_vm_states(store: Store) -> list[VmState]:
    """Every VM's state from the store's indexed columns: no VM is decoded whole, as this is
    polled by every open page."""
    hosts = _host_names(store)
    rows = store.db.query("SELECT id, name, status, host_id FROM vms")
    return [VmState(id=r["id"], name=r["name"], status=VmStatus(r["status"]),
                    host_name=hosts.get(r["host_id"] or "", "")) for r in rows]


def vm_states(store: Store, vms: list[Vm]) -> list[VmState]:
    hosts = _host_names(store)
    return [VmState(id=v.id, name=v.name, status=v.status,
                    host_name=hosts.get(v.host_id or "", "")) for v in vms]


def vm_details(store: Store, vm: Vm, *, snapshots: list[Snapshot], events: list[Event],
               isos: list[Disk], full: bool) -> VmDetails:
    """``full``: with what only an administrator may change (hosts, groups, domains)."""
    disks = []
    for attachment in store.attachments.where(vm_id=vm.id):
        disk = store.disks.find(attachment.disk_id)
        if disk is not None:
            disks.append(AttachedDisk(attachment=attachment, disk=disk))
    profiles = store.vnic_profiles.all()
    names = {p.id: p.name for p in profiles}
    cluster = store.clusters.find(vm.cluster_id) if full else None
    return VmDetails(
        vm=vm,
        host=store.hosts.find(vm.host_id) if vm.host_id else None,
        template=store.templates.find(vm.template_id),
        disks=tuple(disks),
        nics=tuple(VmNic(nic=n, profile_name=names.get(n.vnic_profile_id or "", "<empty>"))
                   for n in store.nics.where(vm_id=vm.id)),
        snapshots=tuple(snapshots),
        events=tuple(events),
        cdrom=store.disks.find(vm.cdrom_file_id) if vm.cdrom_file_id else None,
        isos=tuple(sorted(isos, key=lambda d: d.name.lower())),
        cluster=cluster,
        affinity_groups=tuple(store.affinity_groups.where(cluster_id=vm.cluster_id)),
        migration_targets=tuple(
            h for h in store.hosts.where(cluster_id=vm.cluster_id)
            if h.status is HostStatus.UP and not h.standby and h.id != vm.host_id)
        if full else (),
        profiles=tuple(profiles),
        domains=tuple(store.storage_domains.all()) if full else (),
    )


def new_vm_choices(store: Store, *, isos: list[Disk]) -> NewVmChoices:
    return NewVmChoices(
        templates=tuple(sorted(store.templates.all(),
                               key=lambda t: (t.id != BLANK_TEMPLATE_ID, t.name.lower()))),
        clusters=tuple(store.clusters.all()),
        profiles=tuple(store.vnic_profiles.all()),
        domains=tuple(store.storage_domains.all()),
        isos=tuple(sorted(isos, key=lambda d: d.name.lower())),
    )


def _host_names(store: Store) -> dict[str, str]:
    return {h.id: h.name for h in store.hosts.all()}
