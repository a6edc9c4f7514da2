"""Admin Portal: the dashboard and the virtual machines (list, new, details, edit, actions)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.engine.enums import BootDevice, DiskInterface, VmStatus
from appliance.engine.model import BLANK_TEMPLATE_ID, GiB, MiB, Vm
from appliance.engine.storage import DiskCreate
from appliance.engine.vm_updates import VmUpdate
from appliance.engine.vms import NicCreate, VmCreate
from appliance.errors import InvalidInput, VirtStickError
from webui import summaries
from webui.blueprint import portal_blueprint
from webui.session import actor, admin_required, engine

blueprint = portal_blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 100

# The actions of the VM toolbar: form value -> (engine method name, past tense for the flash).
ACTIONS = {
    "start": ("start", "is starting"),
    "shutdown": ("shutdown", "is shutting down"),
    "stop": ("stop", "was powered off"),
    "reboot": ("reboot", "is rebooting"),
    "pause": ("pause", "was paused"),
    "resume": ("resume", "was resumed"),
}


@blueprint.get("/")
@admin_required
def dashboard() -> str:
    return render_template("admin/dashboard.html", board=summaries.dashboard(engine(), actor()))


@blueprint.get("/vms")
@admin_required
def vms() -> str:
    query = request.args.get("q", "")
    rows = summaries.vm_rows(engine(), actor(), query=query)
    # Pages of 100 rows, as oVirt's Admin Portal shows them; search covers every VM.
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template("admin/vms.html", rows=shown, total=len(rows), page=page,
                           pages=pages, query=query, form=_new_vm_choices())


@blueprint.post("/vms")
@admin_required
def create_vm() -> Any:
    form = request.form
    try:
        vm = _create_vm_from_form(form)
    except VirtStickError as exc:
        flash(exc.detail, "error")
        return render_template("admin/vms.html", rows=summaries.vm_rows(engine(), actor()),
                               query="", form=_new_vm_choices(), values=form,
                               open_dialog=True), exc.status
    flash(f"VM {vm.name} was created.", "success")
    if form.get("start_after"):
        return _act(vm.id, "start", then=url_for("admin.vm", vm_id=vm.id))
    return redirect(url_for("admin.vm", vm_id=vm.id))


@blueprint.get("/vms/<vm_id>")
@admin_required
def vm(vm_id: str) -> str:
    return render_template("admin/vm.html", **vm_details(vm_id))


@blueprint.post("/vms/<vm_id>/action")
@admin_required
def vm_action(vm_id: str) -> Response:
    return _act(vm_id, request.form.get("action", ""),
                then=_back(url_for("admin.vm", vm_id=vm_id)))


@blueprint.post("/vms/<vm_id>/edit")
@admin_required
def edit_vm(vm_id: str) -> Response:
    form = request.form
    try:
        vm = engine().vms.get(vm_id, actor=actor())
        boot = {"hd": (BootDevice.HD,), "cdrom": (BootDevice.CDROM, BootDevice.HD),
                "network": (BootDevice.NETWORK, BootDevice.HD)}.get(form.get("boot", ""))
        vm = engine().vm_updates.update(vm_id, VmUpdate(
            name=form.get("name", "").strip() or None,
            description=form.get("description"),
            memory=_number(form, "memory_mib", default=vm.memory // MiB, noun="Memory") * MiB,
            cpu_sockets=_number(form, "cpus", default=vm.cpu_sockets, noun="CPUs"),
            boot=boot), actor=actor())
        if "iso_id" in form and form["iso_id"] != vm.cdrom_file_id:
            vm = engine().isos.insert(vm_id, form["iso_id"], actor=actor(),
                                      boot_first=form.get("boot") == "cdrom")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"VM {vm.name} was saved.", "success")
    return redirect(url_for("admin.vm", vm_id=vm_id))


@blueprint.post("/vms/<vm_id>/delete")
@admin_required
def delete_vm(vm_id: str) -> Response:
    try:
        vm = engine().vms.get(vm_id, actor=actor())
        engine().vms.remove(vm_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("admin.vm", vm_id=vm_id))
    flash(f"VM {vm.name} was removed.", "success")
    return redirect(url_for("admin.vms"))


def vm_details(vm_id: str) -> dict[str, Any]:
    """Everything the VM page shows (the User Portal shows a part of it)."""
    e = engine()
    vm = e.vms.get(vm_id, actor=actor())
    store = e.store
    disks = []
    for attachment in store.attachments.where(vm_id=vm.id):
        disk = store.disks.find(attachment.disk_id)
        if disk is not None:
            disks.append((attachment, disk))
    profiles = {p.id: p.name for p in store.vnic_profiles.all()}
    return {
        "vm": vm,
        "host": store.hosts.find(vm.host_id) if vm.host_id else None,
        "template": store.templates.find(vm.template_id),
        "disks": disks,
        "nics": [(n, profiles.get(n.vnic_profile_id or "", "<empty>"))
                 for n in store.nics.where(vm_id=vm.id)],
        "snapshots": e.snapshots.list(vm.id, actor=actor()),
        "events": e.events.recent(limit=15, vm_id=vm.id),
        "cdrom": store.disks.find(vm.cdrom_file_id) if vm.cdrom_file_id else None,
        "isos": sorted(e.isos.list(), key=lambda d: d.name.lower()) if actor().superuser
        else [],
    }


def _act(vm_id: str, action: str, *, then: str) -> Response:
    if action not in ACTIONS:
        abort(400)
    method, done = ACTIONS[action]
    try:
        vm: Vm = engine().vms.get(vm_id, actor=actor())
        getattr(engine().vms, method)(vm_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"VM {vm.name} {done}.", "success")
    return redirect(then)


def _back(default: str) -> str:
    target = request.form.get("back", "")
    return target if target.startswith("/") and not target.startswith("//") else default


def _new_vm_choices() -> dict[str, Any]:
    store = engine().store
    return {
        "templates": sorted(store.templates.all(), key=lambda t: (t.id != BLANK_TEMPLATE_ID,
                                                                  t.name.lower())),
        "clusters": store.clusters.all(),
        "profiles": store.vnic_profiles.all(),
        "domains": store.storage_domains.all(),
        "isos": sorted(engine().isos.list(), key=lambda d: d.name.lower()),
    }


def _number(form: Any, key: str, *, default: int, noun: str) -> int:
    raw = str(form.get(key, "")).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{noun} must be a whole number, not '{raw[:20]}'.") from None


def _create_vm_from_form(form: Any) -> Vm:
    """New VM dialog: a VM from the chosen template; for the Blank template a new disk of
    the size asked for; a NIC on the chosen profile when the template brings none."""
    e, who = engine(), actor()
    store = e.store
    template = store.templates.get(form.get("template_id") or BLANK_TEMPLATE_ID)
    cluster_id = form.get("cluster_id") or e.clusters.default().id
    memory_mib = _number(form, "memory_mib", default=template.memory // MiB, noun="Memory")
    cpus = _number(form, "cpus", default=template.cpu_sockets, noun="CPUs")
    boot = (BootDevice.CDROM, BootDevice.HD) if form.get("boot") == "cdrom" else None
    vm = e.vms.create(VmCreate(name=form.get("name", "").strip(), cluster_id=cluster_id,
                               template_id=template.id, memory=memory_mib * MiB,
                               cpu_sockets=cpus, description=form.get("description", ""),
                               boot=boot), actor=who)
    if template.id == BLANK_TEMPLATE_ID:
        size_gib = _number(form, "disk_gib", default=0, noun="Disk size")
        domain_id = form.get("storage_domain_id") or store.storage_domains.all()[0].id
        if size_gib > 0:
            disk = e.disks.create(DiskCreate(name=f"{vm.name}_disk1",
                                             provisioned_size=size_gib * GiB,
                                             storage_domain_id=domain_id), actor=who)
            e.vms.attach_disk(vm.id, disk.id, actor=who, interface=DiskInterface.VIRTIO,
                              bootable=True)
    iso_id = form.get("iso_id", "")
    if iso_id:
        vm = e.isos.insert(vm.id, iso_id, actor=who, boot_first=form.get("boot") == "cdrom")
    profile_id = form.get("vnic_profile_id", "")
    if profile_id and not store.nics.where(vm_id=vm.id):
        e.vms.add_nic(vm.id, NicCreate(name="nic1", vnic_profile_id=profile_id), actor=who)
    return vm


def running_statuses() -> set[VmStatus]:
    return {s for s in VmStatus if s.is_running}
