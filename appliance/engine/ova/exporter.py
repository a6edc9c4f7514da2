"""Export a VM or a template to an OVA that oVirt imports: the OVF first, then one qcow2 per
disk (its chain collapsed) named by its volume id. Runs as a job; the VM is IMAGE_LOCKED
meanwhile and nothing is left under the target name if it fails."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from appliance.engine import chains, disk_locks
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, can_use_vm, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import TemplateStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.imports.model import OvfDisk, OvfNic, OvfSystem
from appliance.engine.jobs import JobContext
from appliance.engine.model import BLANK_TEMPLATE_ID, Job, Template, Vm
from appliance.engine.ova import archive, ovf_writer
from appliance.errors import InvalidInput, InvalidState, NameInUse, NotFound


class OvaExporter:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited_read(AuditAction.OVA_EXPORTER_GET_OVF)
    def get_ovf(self, vm_id: str, *, actor: Actor) -> str:
        """The VM's configuration as the OVF an export would carry (oVirt answers it as the
        VM's ``initialization/configuration``); disks by their ids, with no files."""
        vm = self.ctx.store.vms.find(vm_id)
        if vm is None or not can_use_vm(actor, vm):
            raise NotFound(f"There is no VM with id '{vm_id}'.")
        disks = []
        for attachment in self.ctx.store.attachments.where(vm_id=vm.id):
            disk = self.ctx.store.disks.get(attachment.disk_id)
            disks.append(OvfDisk(disk_id=disk.volume_id, file_href=disk.volume_id,
                                 capacity=disk.provisioned_size,
                                 interface=attachment.interface.value,
                                 bootable=attachment.bootable, alias=disk.name,
                                 image_id=disk.id))
        system = replace(self._system_of_vm(vm), disks=tuple(disks))
        return ovf_writer.write(system).decode("utf-8")

    @audited(AuditAction.OVA_EXPORTER_EXPORT_VM)
    def export_vm(self, vm_id: str, *, directory: str, filename: str = "", actor: Actor,
                  correlation_id: str = "") -> Job:
        require_superuser(actor, "export VMs")
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.get(vm_id)
            if vm.status is not VmStatus.DOWN:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; it must be down to "
                                   "be exported.")
            disk_locks.require_unlocked(disk_locks.vm_disks(self.ctx.store, vm.id),
                                        doing="export the VM")
            target = _target(directory, filename or f"{vm.name}.ova")
            self.ctx.store.vms.update(replace(vm, status=VmStatus.IMAGE_LOCKED))

        def unlock() -> None:
            with self.ctx.locks.hold(vm.id):
                current = self.ctx.store.vms.get(vm.id)
                self.ctx.store.vms.update(replace(current, status=VmStatus.DOWN))

        def work(job: JobContext) -> None:
            try:
                self._write(vm.id, self._system_of_vm(vm), target, "vm.ovf", job)
            finally:
                unlock()
            self.ctx.events.record(EventCode.VM_EXPORTED, f"VM {vm.name} was exported to {target}.",
                                   vm_id=vm.id, user=actor.name, correlation_id=correlation_id)

        return self.ctx.jobs.run(f"Exporting VM {vm.name} to {target}", work,
                                 owner=actor.name, correlation_id=correlation_id, vm_id=vm.id)

    @audited(AuditAction.OVA_EXPORTER_EXPORT_TEMPLATE)
    def export_template(self, template_id: str, *, directory: str, filename: str = "",
                        actor: Actor, correlation_id: str = "") -> Job:
        require_superuser(actor, "export templates")
        template = self.ctx.store.templates.get(template_id)
        if template.id == BLANK_TEMPLATE_ID or template.status is not TemplateStatus.OK:
            raise InvalidState(f"Template '{template.name}' cannot be exported now "
                               f"({template.status.value}).")
        target = _target(directory, filename or f"{template.name}.ova")

        def work(job: JobContext) -> None:
            self._write(template.id, self._system_of_template(template), target,
                        "template.ovf", job)
            self.ctx.events.record(EventCode.TEMPLATE_EXPORTED, f"Template {template.name} was "
                                   f"exported to {target}.", user=actor.name,
                                   correlation_id=correlation_id)

        return self.ctx.jobs.run(f"Exporting template {template.name} to {target}", work,
                                 owner=actor.name, correlation_id=correlation_id)

    def _write(self, owner_id: str, system: OvfSystem, target: Path, descriptor_name: str,
               job: JobContext) -> None:
        store = self.ctx.store
        agent = self.ctx.hosts.any()
        attachments = store.attachments.where(vm_id=owner_id)
        work_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            files: list[tuple[str, Path]] = []
            disks: list[OvfDisk] = []
            for index, attachment in enumerate(attachments):
                disk = store.disks.get(attachment.disk_id)
                path = work_dir / disk.volume_id

                def progress(percent: int, index: int = index) -> None:
                    # Converting is most of the work: 0-80 %, the archive the rest.
                    job.progress((index * 100 + percent) * 80 // (100 * len(attachments)))

                agent.export_volume(chains.volume(disk), path,
                                    source_format=chains.volume_format(store, disk),
                                    progress=progress)
                files.append((disk.volume_id, path))
                disks.append(OvfDisk(disk_id=disk.id, file_href=disk.volume_id,
                                     capacity=disk.provisioned_size,
                                     interface=attachment.interface.value,
                                     bootable=attachment.bootable, alias=disk.name,
                                     image_id=disk.id, sparse=disk.sparse,
                                     file_size=archive.padded_size(path.stat().st_size)))
            descriptor = ovf_writer.write(replace(system, disks=tuple(disks)))
            total = sum(p.stat().st_size for _, p in files) or 1
            archive.write(target, descriptor_name=descriptor_name, descriptor=descriptor,
                          files=files, progress=lambda done: job.progress(80 + done * 20 // total))
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)

    def _system_of_vm(self, vm: Vm) -> OvfSystem:
        template = self.ctx.store.templates.find(vm.template_id)
        return OvfSystem(name=vm.name, memory=vm.memory, cpu_sockets=vm.cpu_sockets,
                         cpu_cores=vm.cpu_cores, cpu_threads=vm.cpu_threads,
                         os_type=vm.os_type, description=vm.description, id=vm.id,
                         template_id=vm.template_id,
                         template_name=template.name if template else "Blank",
                         created=vm.created, nics=self._nics(vm.id))

    def _system_of_template(self, template: Template) -> OvfSystem:
        return OvfSystem(name=template.name, memory=template.memory,
                         cpu_sockets=template.cpu_sockets, cpu_cores=template.cpu_cores,
                         cpu_threads=template.cpu_threads, os_type=template.os_type,
                         description=template.description, is_template=True, id=template.id,
                         created=template.created, nics=self._nics(template.id))

    def _nics(self, owner_id: str) -> tuple[OvfNic, ...]:
        store = self.ctx.store
        nics = []
        for nic in store.nics.where(vm_id=owner_id):
            network = ""
            if nic.vnic_profile_id is not None:
                profile = store.vnic_profiles.get(nic.vnic_profile_id)
                network = store.networks.get(profile.network_id).name
            nics.append(OvfNic(name=nic.name, network=network, model=nic.interface.value,
                               mac=nic.mac))
        return tuple(nics)


def _target(directory: str, filename: str) -> Path:
    """Where the OVA goes: an existing absolute directory of the host, a plain new name."""
    folder = Path(directory)
    if not folder.is_absolute() or not folder.is_dir():
        raise InvalidInput(f"'{directory}' is not an existing absolute directory on the host.")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,200}", filename):
        raise InvalidInput(f"'{filename}' is not a plain file name (letters, digits, . _ + -).")
    target = folder / filename
    if target.exists():
        raise NameInUse(f"{target} already exists; choose another file name.")
    return target
