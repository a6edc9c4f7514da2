"""Templates: the Blank one every VM can start from, and templates imported from disk images
(the stick's demo guest)."""

from __future__ import annotations

import builtins
import time
from dataclasses import replace
from pathlib import Path

from appliance.engine import chains, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskInterface, DiskStatus, TemplateStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id, new_mac
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
    Disk,
    DiskAttachment,
    Nic,
    StorageDomain,
    Template,
    Volume,
)
from appliance.engine.storage import StorageDomains
from appliance.errors import InvalidInput, InvalidState, NameInUse
from appliance.vdsm.storage_interface import ForeignImage


class Templates:
    def __init__(self, ctx: EngineContext, domains: StorageDomains) -> None:
        self.ctx = ctx
        self.domains = domains

    def list(self) -> list[Template]:
        return self.ctx.store.templates.all()

    def get(self, template_id: str) -> Template:
        return self.ctx.store.templates.get(template_id)

    def find(self, template_id: str) -> Template | None:
        return self.ctx.store.templates.find(template_id)

    def find_by_name(self, name: str) -> Template | None:
        return self.ctx.store.templates.by_name(name)

    def list_disk_attachments(self, template_id: str) -> builtins.list[DiskAttachment]:
        template = self.get(template_id)
        return self.ctx.store.attachments.where(vm_id=template.id)

    def list_nics(self, template_id: str) -> builtins.list[Nic]:
        template = self.get(template_id)
        return self.ctx.store.nics.where(vm_id=template.id)

    @audited(AuditAction.TEMPLATE_IMPORT_DISK_IMAGE)
    def import_disk_image(self, source: Path, *, name: str, domain: StorageDomain,
                          actor: Actor, memory: int, description: str = "",
                          vnic_profile_id: str | None = None) -> Template:
        """A template whose one bootable disk is a copy of ``source`` (qcow2 or raw: an image
        the appliance ships, whose format qemu-img may probe)."""
        require_superuser(actor, "import templates")
        validation.name(name, noun="template")
        if not source.is_file():
            raise InvalidInput(f"{source} is not a disk image file.")
        if self.ctx.store.templates.by_name(name) is not None:
            raise NameInUse(f"The name '{name}' is already used by another template.")
        agent = self.ctx.hosts.any()
        info = agent.inspect_image(ForeignImage(source))
        self.domains.require_room(domain, info.actual_size, sparse=False)
        template = Template(id=new_id(), name=name, cluster_id=None, memory=memory,
                            description=description, status=TemplateStatus.LOCKED,
                            created=time.time())
        disk = Disk(id=new_id(), name=f"{name}_disk", storage_domain_id=domain.id,
                    provisioned_size=info.virtual_size, volume_id=new_id(),
                    status=DiskStatus.LOCKED, template_id=template.id, created=time.time())
        with self.ctx.store.db.transaction():
            self.ctx.store.templates.insert(template)
            self.ctx.store.disks.insert(disk)
            self.ctx.store.volumes.insert(Volume(id=disk.volume_id, disk_id=disk.id,
                                                 storage_domain_id=domain.id, parent_id=None,
                                                 created=time.time()))
            self.ctx.store.attachments.insert(DiskAttachment(
                id=disk.id, vm_id=template.id, disk_id=disk.id,
                interface=DiskInterface.VIRTIO, bootable=True))
            if vnic_profile_id is not None:
                self.ctx.store.nics.insert(Nic(id=new_id(), vm_id=template.id, name="nic1",
                                               mac=new_mac(), vnic_profile_id=vnic_profile_id))
        try:
            target = chains.volume(disk)
            agent.import_volume(ForeignImage(source, format=info.format), target)
            # A template's volume is never written again: read-only guards the VMs on it.
            agent.set_volume_read_only(target, True)
        except Exception:
            self._forget(template.id)
            raise
        self.ctx.store.disks.update(replace(disk, status=DiskStatus.OK))
        template = self.ctx.store.templates.update(replace(template, status=TemplateStatus.OK))
        self.ctx.events.record(EventCode.TEMPLATE_IMPORTED,
                               f"Template {name} was imported from {source.name}.",
                               user=actor.name)
        return template

    @audited(AuditAction.TEMPLATE_REMOVE)
    def remove(self, template_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove templates")
        template = self.ctx.store.templates.get(template_id)
        if template.id == BLANK_TEMPLATE_ID:
            raise InvalidState("The Blank template cannot be removed.")
        versions = [t for t in self.ctx.store.templates.all()
                    if t.base_template_id == template_id and t.id != template_id]
        if versions:
            raise InvalidState(f"Template '{template.name}' has {len(versions)} newer "
                               "version(s); remove them first.")
        users = self.ctx.store.vms.where(template_id=template_id)
        if users:
            names = ", ".join(sorted(v.name for v in users)[:5])
            raise InvalidState(f"Template '{template.name}' is used by {len(users)} VM(s) "
                               f"({names}); remove them first.")
        self._forget(template_id)
        self.ctx.events.record(EventCode.TEMPLATE_REMOVED, f"Template {template.name} was removed.",
                               user=actor.name)

    def _forget(self, template_id: str) -> None:
        """Remove a template's disks (files and rows), NICs and the template itself."""
        agent = self.ctx.hosts.any()
        for attachment in self.ctx.store.attachments.where(vm_id=template_id):
            disk = self.ctx.store.disks.get(attachment.disk_id)
            agent.delete_image(storage_domain_id=disk.storage_domain_id, image_id=disk.id)
            with self.ctx.store.db.transaction():
                self.ctx.store.attachments.delete(attachment.id)
                for vol in self.ctx.store.volumes.where(disk_id=disk.id):
                    self.ctx.store.volumes.delete(vol.id)
                self.ctx.store.disks.delete(disk.id)
        with self.ctx.store.db.transaction():
            for nic in self.ctx.store.nics.where(vm_id=template_id):
                self.ctx.store.nics.delete(nic.id)
            self.ctx.store.templates.delete(template_id)
