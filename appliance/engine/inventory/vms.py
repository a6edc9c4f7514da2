"""Read models of VMs: the rows of the VM list, the states the pages poll, one VM's page and
the choices of the New VM dialog."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.enums import VmStatus
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
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
    isos: tuple[Disk, ...]  # what the CD-ROM may take; empty unless a superuser asks


@dataclass(frozen=True)
class NewVmChoices:
    templates: tuple[Template, ...]  # Blank first, then by name
    clusters: tuple[Cluster, ...]
    profiles: tuple[VnicProfile, ...]
    domains: tuple[StorageDomain, ...]
    isos: tuple[Disk, ...]


def vm_rows(store: Store, vms: list[Vm], *, query: str = "") -> list[VmRow]:
    """By name; ``query`` keeps the VMs whose name or description contain it."""
    hosts = {h.id: h.name for h in store.hosts.all()}
    templates = {t.id: t.name for t in store.templates.all()}
    needle = query.strip().lower()
    rows = []
    for vm in sorted(vms, key=lambda v: v.name.lower()):
        if needle and needle not in vm.name.lower() and needle not in vm.description.lower():
            continue
        rows.append(VmRow(vm=vm, host_name=hosts.get(vm.host_id or "", ""),
                          template_name=templates.get(vm.template_id, "")))
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
               isos: list[Disk]) -> VmDetails:
    disks = []
    for attachment in store.attachments.where(vm_id=vm.id):
        disk = store.disks.find(attachment.disk_id)
        if disk is not None:
            disks.append(AttachedDisk(attachment=attachment, disk=disk))
    profiles = {p.id: p.name for p in store.vnic_profiles.all()}
    return VmDetails(
        vm=vm,
        host=store.hosts.find(vm.host_id) if vm.host_id else None,
        template=store.templates.find(vm.template_id),
        disks=tuple(disks),
        nics=tuple(VmNic(nic=n, profile_name=profiles.get(n.vnic_profile_id or "", "<empty>"))
                   for n in store.nics.where(vm_id=vm.id)),
        snapshots=tuple(snapshots),
        events=tuple(events),
        cdrom=store.disks.find(vm.cdrom_file_id) if vm.cdrom_file_id else None,
        isos=tuple(sorted(isos, key=lambda d: d.name.lower())),
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
