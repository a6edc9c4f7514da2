"""The forms of a VM's page, beyond its power buttons (``vm_actions``): edit, remove, clone,
make a template, export, migrate, high availability and affinity, snapshots, disks, NICs and
the CD-ROM. Each form names its entry by the URL; each entry is a typed call of engine
services (never a method looked up by name) that says what it did.

A refused form comes back in place: the page is drawn again with that form's dialog open,
the engine's message in it and every field as it was typed (``Refusal``).

A new VM action is one ``VmForm`` member, its typed call in ``FORMS`` and a dialog (the
``form_dialog`` macro of ``_dialogs.html``) in the page or a partial: tags and pools, once
their engine services exist (issue 13), join that way, as a bulk action joins ``vm_bulk``
and a list filter ``VmQuery``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from flask import abort, flash, redirect, request
from flask.typing import ResponseReturnValue

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.enums import BootDevice, DiskInterface, NicInterface
from appliance.engine.model import MiB
from appliance.engine.template_builder import TemplateFromVm
from appliance.engine.vm_disks import NewVmDisk
from appliance.engine.vm_updates import VmUpdate
from appliance.engine.vms import NicCreate
from appliance.errors import VirtStickError
from webui.form_values import Form, choice, flag, number, size, text
from webui.session import actor, engine


class VmForm(StrEnum):
    """The last part of the form's URL, ``/vms/<id>/<form>``; the dialog ids follow it."""

    EDIT = "edit"
    REMOVE = "delete"
    MIGRATE = "migrate"
    CLONE = "clone"
    MAKE_TEMPLATE = "make-template"
    EXPORT = "export"
    HIGH_AVAILABILITY = "high-availability"
    JOIN_GROUP = "affinity-join"
    LEAVE_GROUP = "affinity-leave"
    SNAPSHOT = "snapshot"
    PREVIEW = "snapshot-preview"
    COMMIT = "snapshot-commit"
    UNDO = "snapshot-undo"
    RESTORE = "snapshot-restore"
    REMOVE_SNAPSHOT = "snapshot-remove"
    ADD_DISK = "disk-add"
    RESIZE_DISK = "disk-resize"
    DETACH_DISK = "disk-detach"
    ADD_NIC = "nic-add"
    REMOVE_NIC = "nic-remove"
    CDROM = "cdrom"


class Then(StrEnum):
    """Where the browser goes once the engine has taken the form."""

    VM = "vm"  # back to the VM's page
    LIST = "list"  # the VM is gone: to the list
    OTHER_VM = "other-vm"  # to the page of the VM the form made (a clone)


@dataclass(frozen=True)
class Done:
    message: str
    then: Then = Then.VM
    vm_id: str = ""  # with Then.OTHER_VM


@dataclass(frozen=True)
class Refusal:
    """A form the engine refused, drawn again in place: its dialog open with ``error`` and
    the fields as typed."""

    form: str  # a VmForm, or a dialog of the list page
    error: str
    values: Form


@dataclass(frozen=True)
class FormAction:
    run: Callable[[Engine, str, Form, Actor], Done]  # (engine, VM id, fields, who)
    admin_only: bool = False  # not offered by the User Portal


BOOT_ORDERS = {"hd": (BootDevice.HD,), "cdrom": (BootDevice.CDROM, BootDevice.HD),
               "network": (BootDevice.NETWORK, BootDevice.HD)}


def _edit(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    vm = e.vm_updates.update(vm_id, VmUpdate(
        name=text(form, "name") or None, description=form.get("description"),
        memory=number(form, "memory_mib", default=vm.memory // MiB, noun="Memory") * MiB,
        cpu_sockets=number(form, "cpus", default=vm.cpu_sockets, noun="CPUs"),
        boot=BOOT_ORDERS.get(text(form, "boot"))), actor=who)
    return Done(f"VM {vm.name} was saved.")


def _remove(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    e.vms.remove(vm_id, actor=who, keep_disks=flag(form, "keep_disks"))
    return Done(f"VM {vm.name} was removed.", Then.LIST)


def _migrate(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    e.migrations.migrate(vm_id, actor=who, host_id=text(form, "host_id") or None)
    return Done(f"VM {vm.name} is migrating; it keeps running meanwhile. Tasks shows how far "
                "it is.")


def _clone(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    source = e.vms.get(vm_id, actor=who)
    clone, _ = e.vm_clones.clone(vm_id, name=text(form, "name"), actor=who)
    return Done(f"VM {source.name} is being cloned to {clone.name}; Tasks shows the copy's "
                "progress.", Then.OTHER_VM, clone.id)


def _make_template(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    started = e.template_builder.create_from_vm(TemplateFromVm(
        vm_id=vm_id, name=text(form, "name"), description=text(form, "description")),
        actor=who)
    return Done(f"Template {started.template.name} is being made from VM {vm.name}; the VM "
                "is locked until Tasks shows it done.")


def _export(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    e.ova_exporter.export_vm(vm_id, directory=text(form, "directory"),
                             filename=text(form, "filename"), actor=who)
    return Done(f"VM {vm.name} is being exported; Tasks shows how far it is.")


def _high_availability(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    wanted = flag(form, "high_availability")
    vm = e.vm_updates.update(vm_id, VmUpdate(high_availability=wanted), actor=who)
    return Done(f"VM {vm.name} is {'now' if wanted else 'no longer'} highly available.")


def _join_group(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    group = e.affinity_groups.join(vm_id, text(form, "group"), actor=who,
                                   positive=text(form, "kind") == "positive",
                                   enforcing=flag(form, "enforcing"))
    return Done(f"VM {vm.name} is in affinity group {group.name}.")


def _leave_group(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    vm = e.vms.get(vm_id, actor=who)
    group = e.affinity_groups.leave(vm_id, text(form, "group"), actor=who)
    return Done(f"VM {vm.name} left affinity group {group.name}.")


def _snapshot(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    snapshot = e.snapshots.create(
        vm_id, description=text(form, "description")[:256] or "Snapshot from the portal",
        persist_memory=flag(form, "memory"), actor=who)
    memory = " with the guest's memory" if snapshot.persist_memorystate else ""
    return Done(f"The snapshot '{snapshot.description}' was taken{memory}.")


def _preview(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    memory = flag(form, "restore_memory")
    snapshot = e.snapshots.preview(vm_id, text(form, "snapshot_id"), actor=who,
                                   restore_memory=memory)
    resumes = " Run resumes the guest from its saved memory." if memory else ""
    return Done(f"The VM shows snapshot '{snapshot.description}': commit to keep it, undo "
                f"to go back.{resumes}")


def _commit(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    e.snapshots.commit(vm_id, actor=who)
    return Done("The previewed snapshot was kept; what came after it is gone.")


def _undo(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    e.snapshots.undo(vm_id, actor=who)
    return Done("The preview was undone: the disks are as they were before it.")


def _restore(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    e.snapshots.restore(vm_id, text(form, "snapshot_id"), actor=who)
    return Done("The VM was restored to the snapshot.")


def _remove_snapshot(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    e.snapshots.remove(vm_id, text(form, "snapshot_id"), actor=who)
    return Done("The snapshot was removed.")


def _add_disk(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    disk = e.vm_disks.add(vm_id, NewVmDisk(
        size=size(form, "size_gib", noun="The disk size"), name=text(form, "name"),
        storage_domain_id=text(form, "storage_domain_id") or None,
        interface=choice(form, "interface", DiskInterface, noun="disk interface",
                         default=DiskInterface.VIRTIO),
        bootable=flag(form, "bootable")), actor=who)
    return Done(f"Disk {disk.name} was added.")


def _resize_disk(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    disk = e.vm_disks.resize(vm_id, text(form, "disk_id"),
                             size=size(form, "size_gib", noun="The new size"), actor=who)
    return Done(f"Disk {disk.name} now has {disk.provisioned_size / (1024 * MiB):.1f} GiB.")


def _detach_disk(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    removing = flag(form, "remove")
    e.vms.detach_disk(vm_id, text(form, "disk_id"), actor=who, remove=removing)
    return Done("The disk was detached and removed." if removing else
                "The disk was detached; it stays on the Disks page.")


def _add_nic(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    nic = e.vms.add_nic(vm_id, NicCreate(
        name=text(form, "name"), vnic_profile_id=text(form, "vnic_profile_id") or None,
        interface=choice(form, "interface", NicInterface, noun="NIC model",
                         default=NicInterface.VIRTIO)), actor=who)
    return Done(f"NIC {nic.name} was added ({nic.mac}).")


def _remove_nic(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    e.vms.remove_nic(vm_id, text(form, "nic_id"), actor=who)
    return Done("The NIC was removed.")


def _cdrom(e: Engine, vm_id: str, form: Form, who: Actor) -> Done:
    iso_id = text(form, "iso_id")
    vm = e.isos.insert(vm_id, iso_id, actor=who, boot_first=flag(form, "boot_first"))
    if not iso_id:
        return Done(f"The CD-ROM of VM {vm.name} is empty now.")
    return Done(f"The ISO image is in the CD-ROM of VM {vm.name}"
                + (" now." if vm.status.is_running else "; the VM sees it when it runs."))


FORMS: Mapping[VmForm, FormAction] = MappingProxyType({
    VmForm.EDIT: FormAction(_edit, admin_only=True),
    VmForm.REMOVE: FormAction(_remove, admin_only=True),
    VmForm.MIGRATE: FormAction(_migrate, admin_only=True),
    VmForm.CLONE: FormAction(_clone),
    VmForm.MAKE_TEMPLATE: FormAction(_make_template, admin_only=True),
    VmForm.EXPORT: FormAction(_export, admin_only=True),
    VmForm.HIGH_AVAILABILITY: FormAction(_high_availability, admin_only=True),
    VmForm.JOIN_GROUP: FormAction(_join_group, admin_only=True),
    VmForm.LEAVE_GROUP: FormAction(_leave_group, admin_only=True),
    VmForm.SNAPSHOT: FormAction(_snapshot),
    VmForm.PREVIEW: FormAction(_preview),
    VmForm.COMMIT: FormAction(_commit),
    VmForm.UNDO: FormAction(_undo),
    VmForm.RESTORE: FormAction(_restore),
    VmForm.REMOVE_SNAPSHOT: FormAction(_remove_snapshot),
    VmForm.ADD_DISK: FormAction(_add_disk),
    VmForm.RESIZE_DISK: FormAction(_resize_disk),
    VmForm.DETACH_DISK: FormAction(_detach_disk),
    VmForm.ADD_NIC: FormAction(_add_nic),
    VmForm.REMOVE_NIC: FormAction(_remove_nic),
    VmForm.CDROM: FormAction(_cdrom),
})


Renderer = Callable[[str, Refusal | None], str]  # a portal's VM page: (VM id, refusal)


def submit(vm_id: str, value: str, *, admin: bool, render: Renderer,
           vm_url: Callable[[str], str], list_url: str) -> ResponseReturnValue:
    """Run the form a VM page sent; a refusal draws the page again with the form in place
    (and the engine's status), success says what happened and goes where the form says."""
    try:
        form = VmForm(value)
    except ValueError:
        abort(404)
    chosen = FORMS[form]
    if chosen.admin_only and not admin:
        abort(404)
    try:
        done = chosen.run(engine(), vm_id, request.form, actor())
    except VirtStickError as exc:
        return render(vm_id, Refusal(form, exc.detail, request.form)), exc.status
    flash(done.message, "success")
    target = {Then.VM: vm_url(vm_id), Then.LIST: list_url,
              Then.OTHER_VM: vm_url(done.vm_id)}[done.then]
    return redirect(target)
