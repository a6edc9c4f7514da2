"""A VM or template from an OVF configuration over disks already uploaded (oVirt's ``POST /vms``
or ``/templates`` with ``<initialization><configuration><type>ova</type><data>``): what the
SDK's ``upload_ova_as_vm_or_template.py`` does after uploading each disk of an OVA under the
id the OVF gives it."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.engine import chains, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.bootstrap import MANAGEMENT_NETWORK
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskInterface, DiskStatus, NicInterface, TemplateStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id, new_mac
from appliance.engine.imports.model import OvfDisk, OvfSystem
from appliance.engine.model import Disk, DiskAttachment, Nic, Template, Vm
from appliance.engine.ova import ovf_reader
from appliance.errors import InvalidInput, InvalidState, NameInUse


class OvfConfigurations:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited(AuditAction.OVA_CONFIGURATION_CREATE_VM)
    def create_vm(self, descriptor: bytes, *, cluster_id: str, actor: Actor,
                  name: str = "") -> Vm:
        require_superuser(actor, "create VMs from OVF configurations")
        system = ovf_reader.read(descriptor)
        store = self.ctx.store
        store.clusters.get(cluster_id)
        name = validation.name(name or system.name, noun="VM")
        with store.db.transaction():
            disks = self._disks(system)
            if store.vms.by_name(name) is not None:
                raise NameInUse(f"The name '{name}' is already used by another VM.")
            vm = store.vms.insert(Vm(
                id=new_id(), name=name, cluster_id=cluster_id, created=time.time(),
                memory=validation.memory(system.memory), description=system.description,
                cpu_sockets=system.cpu_sockets, cpu_cores=system.cpu_cores,
                cpu_threads=system.cpu_threads, os_type=system.os_type))
            self._attach(vm.id, system, disks)
        self.ctx.events.record(EventCode.VM_CREATED, f"VM {name} was created by {actor.name} "
                               "from an OVF configuration.", vm_id=vm.id, user=actor.name)
        return vm

    @audited(AuditAction.OVA_CONFIGURATION_CREATE_TEMPLATE)
    def create_template(self, descriptor: bytes, *, cluster_id: str, actor: Actor,
                        name: str = "") -> Template:
        require_superuser(actor, "create templates from OVF configurations")
        system = ovf_reader.read(descriptor)
        store = self.ctx.store
        store.clusters.get(cluster_id)
        name = validation.name(name or system.name, noun="template")
        with store.db.transaction():
            disks = self._disks(system)
            if store.templates.by_name(name) is not None:
                raise NameInUse(f"The name '{name}' is already used by another template.")
            template = store.templates.insert(Template(
                id=new_id(), name=name, cluster_id=cluster_id, status=TemplateStatus.OK,
                created=time.time(), memory=validation.memory(system.memory),
                description=system.description, cpu_sockets=system.cpu_sockets,
                cpu_cores=system.cpu_cores, cpu_threads=system.cpu_threads,
                os_type=system.os_type))
            for disk in disks.values():
                store.disks.update(replace(disk, template_id=template.id))
            self._attach(template.id, system, disks)
        agent = self.ctx.hosts.any()
        for disk in disks.values():
            agent.set_volume_read_only(chains.volume(disk), True)  # a template's base
        return template

    def _disks(self, system: OvfSystem) -> dict[str, Disk]:
        """The OVF's disks, uploaded under its ids, free and ok."""
        store = self.ctx.store
        found = {}
        for wanted in system.disks:
            disk = store.disks.find(wanted.disk_id)
            if disk is None:
                raise InvalidInput(f"The OVF's disk {wanted.disk_id} ('{wanted.alias}') does "
                                   "not exist: upload the OVA's disks under the OVF's ids "
                                   "first.")
            if disk.status is not DiskStatus.OK or store.attachments.where(disk_id=disk.id) \
                    or disk.template_id is not None:
                raise InvalidState(f"Disk '{disk.name}' is {disk.status.value} or already "
                                   "belongs to a VM or template.")
            found[wanted.disk_id] = disk
        return found

    def _attach(self, owner_id: str, system: OvfSystem, disks: dict[str, Disk]) -> None:
        store = self.ctx.store
        bootable = next((d.disk_id for d in system.disks if d.bootable),
                        system.disks[0].disk_id if system.disks else "")
        for wanted in system.disks:
            disk = disks[wanted.disk_id]
            store.attachments.insert(DiskAttachment(
                id=disk.id, vm_id=owner_id, disk_id=disk.id, interface=_interface(wanted),
                bootable=wanted.disk_id == bootable))
        fallback = store.vnic_profiles.by_name(MANAGEMENT_NETWORK)
        for nic in system.nics:
            profile = (store.vnic_profiles.by_name(nic.network) if nic.network else None) \
                or fallback
            mac = nic.mac if nic.mac and not store.nics.where(mac=nic.mac) else new_mac()
            store.nics.insert(Nic(id=new_id(), vm_id=owner_id, name=nic.name, mac=mac,
                                  vnic_profile_id=profile.id if profile else None,
                                  interface=NicInterface(nic.model)))


def _interface(disk: OvfDisk) -> DiskInterface:
    try:
        return DiskInterface(disk.interface)
    except ValueError:
        return DiskInterface.VIRTIO
