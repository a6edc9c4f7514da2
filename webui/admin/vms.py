"""Admin Portal, virtual machines: the list, the New VM dialog, a VM's page with its
actions, editing, removal, migration and its monitoring charts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.engine.enums import BootDevice
from appliance.engine.inventory import VmQuery
from appliance.engine.model import BLANK_TEMPLATE_ID, GiB, MiB, Vm
from appliance.engine.vm_provisioning import NewVm
from appliance.engine.vm_updates import VmUpdate
from appliance.errors import InvalidInput, VirtStickError
from webui.history_charts import vm_page
from webui.outcome import back_or
from webui.session import actor, admin_required, engine
from webui.vm_actions import ADMIN_ACTIONS, VmAction, perform

blueprint = Blueprint("vms", __name__)

PAGE_SIZE = 100


@blueprint.get("/vms")
@admin_required
def index() -> str:
    return _list_page(query=request.args.get("q", ""),
                      page=request.args.get("page", 1, type=int) or 1)


@blueprint.post("/vms")
@admin_required
def create() -> Any:
    form = request.form
    try:
        vm = _create_vm_from_form(form)
    except VirtStickError as exc:
        # The dialog opens again with the engine's refusal and what was typed.
        return _list_page(query="", page=1, values=form, error=exc.detail), exc.status
    flash(f"VM {vm.name} was created.", "success")
    if form.get("start_after"):
        return perform(vm.id, VmAction.START, allowed=ADMIN_ACTIONS,
                       then=url_for("admin.vms.show", vm_id=vm.id))
    return redirect(url_for("admin.vms.show", vm_id=vm.id))


@blueprint.get("/vms/<vm_id>")
@admin_required
def show(vm_id: str) -> str:
    details = engine().inventory.get_vm_details(vm_id, actor=actor())
    return render_template("admin/vm.html", vm=details.vm, details=details)


@blueprint.post("/vms/<vm_id>/action")
@admin_required
def action(vm_id: str) -> Response:
    return perform(vm_id, request.form.get("action", ""), allowed=ADMIN_ACTIONS,
                   then=back_or(url_for("admin.vms.show", vm_id=vm_id)))


@blueprint.post("/vms/<vm_id>/edit")
@admin_required
def edit(vm_id: str) -> Response:
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
    return redirect(url_for("admin.vms.show", vm_id=vm_id))


@blueprint.post("/vms/<vm_id>/delete")
@admin_required
def delete(vm_id: str) -> Response:
    try:
        vm = engine().vms.get(vm_id, actor=actor())
        engine().vms.remove(vm_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("admin.vms.show", vm_id=vm_id))
    flash(f"VM {vm.name} was removed.", "success")
    return redirect(url_for("admin.vms.index"))


@blueprint.post("/vms/<vm_id>/migrate")
@admin_required
def migrate(vm_id: str) -> Response:
    target = request.form.get("host_id") or None
    try:
        engine().migrations.migrate(vm_id, actor=actor(), host_id=target)
        flash("The migration started; the VM keeps running meanwhile.", "success")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(request.referrer or url_for("admin.hosts.index"))


@blueprint.get("/vms/<vm_id>/monitoring")
@admin_required
def monitoring(vm_id: str) -> str:
    return vm_page(vm_id, portal="admin")


def _list_page(*, query: str, page: int, values: Any = None, error: str = "") -> str:
    """The VM list, in pages of 100 rows as oVirt's Admin Portal shows them (search covers
    every VM), with the New VM dialog; ``values`` and ``error`` open it on a refused form."""
    rows = engine().inventory.list_vm_rows(actor=actor(), query=VmQuery(text=query))
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    return render_template("admin/vms.html", rows=shown, total=len(rows), page=page,
                           pages=pages, query=query,
                           form=engine().inventory.get_new_vm_choices(actor=actor()),
                           values=values, error=error, open_dialog=values is not None)


def _create_vm_from_form(form: Any) -> Vm:
    """New VM dialog: a VM from the chosen template; for the Blank template a new disk of
    the size asked for (the field belongs to that choice), made in one step by the engine."""
    template_id = form.get("template_id") or BLANK_TEMPLATE_ID
    memory_mib = _given_number(form, "memory_mib", noun="Memory")
    disk_gib = _number(form, "disk_gib", default=0, noun="Disk size") \
        if template_id == BLANK_TEMPLATE_ID else 0
    return engine().vm_provisioning.create(NewVm(
        name=form.get("name", "").strip(), template_id=template_id,
        cluster_id=form.get("cluster_id") or None,
        memory=None if memory_mib is None else memory_mib * MiB,
        cpu_sockets=_given_number(form, "cpus", noun="CPUs"),
        description=form.get("description", ""),
        disk_size=disk_gib * GiB, storage_domain_id=form.get("storage_domain_id") or None,
        vnic_profile_id=form.get("vnic_profile_id") or None,
        iso_id=form.get("iso_id") or None, boot_from_cdrom=form.get("boot") == "cdrom"),
        actor=actor())


def _number(form: Any, key: str, *, default: int, noun: str) -> int:
    found = _given_number(form, key, noun=noun)
    return default if found is None else found


def _given_number(form: Any, key: str, *, noun: str) -> int | None:
    """None when the field is left empty."""
    raw = str(form.get(key, "")).strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{noun} must be a whole number, not '{raw[:20]}'.") from None
