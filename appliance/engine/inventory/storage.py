"""Read models of storage: domains with their usage, disks with their owner, ISO images with
the VMs whose CD-ROM holds them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.engine.model import Disk, StorageDomain
from appliance.engine.storage import DomainUsage
from appliance.engine.store.schema import Store
from appliance.errors import VirtStickError


@dataclass(frozen=True)
class DomainRow:
    domain: StorageDomain
    usage: DomainUsage | None  # None: the host could not be asked


@dataclass(frozen=True)
class DiskRow:
    disk: Disk
    domain_name: str
    owner: str  # the VM (or "template NAME") it is attached to; "" when floating


@dataclass(frozen=True)
class IsoRow:
    iso: Disk
    in_cdrom_of: tuple[str, ...]  # names of the VMs whose CD-ROM holds it


def domain_rows(store: Store, usage: Callable[[StorageDomain], DomainUsage]) -> list[DomainRow]:
    rows = []
    for domain in sorted(store.storage_domains.all(), key=lambda d: d.name):
        try:
            found: DomainUsage | None = usage(domain)
        except VirtStickError:
            found = None
        rows.append(DomainRow(domain=domain, usage=found))
    return rows


def disk_rows(store: Store) -> list[DiskRow]:
    domains = {d.id: d.name for d in store.storage_domains.all()}
    vm_names = {v.id: v.name for v in store.vms.all()}
    template_names = {t.id: t.name for t in store.templates.all()}
    owners = {}
    for attachment in store.attachments.all():
        owners[attachment.disk_id] = vm_names.get(attachment.vm_id) or (
            "template " + template_names.get(attachment.vm_id, "?"))
    return [DiskRow(disk=d, domain_name=domains.get(d.storage_domain_id, "?"),
                    owner=owners.get(d.id, ""))
            for d in sorted(store.disks.all(), key=lambda d: d.name.lower())]


def iso_rows(store: Store, isos: list[Disk]) -> list[IsoRow]:
    in_use: dict[str, list[str]] = {}
    for vm in store.vms.all():
        if vm.cdrom_file_id:
            in_use.setdefault(vm.cdrom_file_id, []).append(vm.name)
    return [IsoRow(iso=iso, in_cdrom_of=tuple(in_use.get(iso.id, ())))
            for iso in sorted(isos, key=lambda d: d.name.lower())]
