"""Templates made from VMs, and template versions.

The VM's chain of each disk is collapsed into the template's base volume (read-only from then
on), in a job with progress; the VM is IMAGE_LOCKED meanwhile. A version shares its base
template's name and counts up from it (oVirt's sub-templates).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import disk_locks, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import TemplateStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id, new_mac
from appliance.engine.jobs import JobContext
from appliance.engine.model import Job, Template, Vm
from appliance.errors import InvalidState, NameInUse


@dataclass(frozen=True)
class TemplateFromVm:
    vm_id: str
    name: str = ""  # ignored for a version: it takes its base template's name
    description: str = ""
    base_template_id: str | None = None  # make a new version of this template
    version_name: str = ""


@dataclass(frozen=True)
class Started:
    """A template being made and the job that makes it."""

    template: Template
    job: Job


class TemplateBuilder:
    def __init__(self, ctx: EngineContext, copies: DiskCopies) -> None:
        self.ctx = ctx
        self.copies = copies

    @audited(AuditAction.TEMPLATE_BUILDER_CREATE_FROM_VM)
    def create_from_vm(self, request: TemplateFromVm, *, actor: Actor,
                       correlation_id: str = "") -> Started:
        require_superuser(actor, "make templates")
        store = self.ctx.store
        with self.ctx.locks.hold(request.vm_id):
            vm = store.vms.get(request.vm_id)
            if vm.status is not VmStatus.DOWN:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; it must be down to "
                                   "make a template of it.")
            disk_locks.require_unlocked(disk_locks.vm_disks(store, vm.id),
                                        doing="make the template")
            template = self._new_template(request, vm)
            with store.db.transaction():
                store.templates.insert(template)
                for nic in store.nics.where(vm_id=vm.id):
                    store.nics.insert(replace(nic, id=new_id(), vm_id=template.id,
                                              mac=new_mac()))
                store.vms.update(replace(vm, status=VmStatus.IMAGE_LOCKED))

        def work(job: JobContext) -> None:
            self._copy_disks(vm, template, job)
            store.templates.update(replace(template, status=TemplateStatus.OK))
            self.ctx.events.record(EventCode.TEMPLATE_CREATED, f"Template {template.name} (version "
                                   f"{template.version_number}) was made from VM {vm.name} "
                                   f"by {actor.name}.", vm_id=vm.id, user=actor.name,
                                   correlation_id=correlation_id)

        def undo() -> None:
            self._forget(template.id)

        def unlock() -> None:
            with self.ctx.locks.hold(vm.id):
                current = store.vms.get(vm.id)
                store.vms.update(replace(current, status=VmStatus.DOWN))

        job = self.ctx.jobs.run(f"Creating template {template.name} from VM {vm.name}",
                                _then(work, unlock), owner=actor.name,
                                correlation_id=correlation_id, vm_id=vm.id,
                                on_failure=_both(undo, unlock))
        return Started(template, job)

    def versions(self, base_template_id: str) -> list[Template]:
        return sorted((t for t in self.ctx.store.templates.all()
                       if t.id == base_template_id or t.base_template_id == base_template_id),
                      key=lambda t: t.version_number)

    def _new_template(self, request: TemplateFromVm, vm: Vm) -> Template:
        store = self.ctx.store
        common = dict(cluster_id=vm.cluster_id, memory=vm.memory,
                      description=request.description, status=TemplateStatus.LOCKED,
                      cpu_sockets=vm.cpu_sockets, cpu_cores=vm.cpu_cores,
                      cpu_threads=vm.cpu_threads, os_type=vm.os_type, graphics=vm.graphics,
                      boot=vm.boot, version_name=request.version_name, created=time.time(),
                      memory_guaranteed=vm.memory_guaranteed, memory_max=vm.memory_max)
        if request.base_template_id is not None:
            base = store.templates.get(request.base_template_id)
            root = base.base_template_id or base.id
            number = max(t.version_number for t in self.versions(root)) + 1
            return Template(id=new_id(), name=store.templates.get(root).name,
                            version_number=number, base_template_id=root,
                            **common)  # type: ignore[arg-type]
        validation.name(request.name, noun="template")
        if store.templates.by_name(request.name) is not None:
            raise NameInUse(f"The name '{request.name}' is already used by another template; "
                            "to add a version, name the base template.")
        return Template(id=new_id(), name=request.name, **common)  # type: ignore[arg-type]

    def _copy_disks(self, vm: Vm, template: Template, job: JobContext) -> None:
        store = self.ctx.store
        attachments = store.attachments.where(vm_id=vm.id)
        for index, attachment in enumerate(attachments):
            source = store.disks.get(attachment.disk_id)

            def progress(percent: int, index: int = index) -> None:
                job.progress((index * 100 + percent) // max(1, len(attachments)))

            disk = self.copies.copy(source, name=f"{template.name}_{source.name}",
                                    template_id=template.id, progress=progress)
            store.attachments.insert(replace(attachment, id=disk.id, vm_id=template.id,
                                             disk_id=disk.id))

    def _forget(self, template_id: str) -> None:
        """Remove a half-made template: its disks, NICs and record."""
        store = self.ctx.store
        for disk in store.disks.where(template_id=template_id):
            self.copies.discard(disk.id)
        with store.db.transaction():
            for nic in store.nics.where(vm_id=template_id):
                store.nics.delete(nic.id)
            store.templates.delete(template_id)


def _then(work: Callable[[JobContext], None],
          after: Callable[[], None]) -> Callable[[JobContext], None]:
    def run(job: JobContext) -> None:
        work(job)
        after()
    return run


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            first()
        finally:
            second()
    return run
