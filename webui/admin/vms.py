"""Admin Portal, virtual machines: the list (sorted, filtered, with bulk actions and the
resource tree), the New VM and Import OVA dialogs, a VM's page with its actions and forms,
and its monitoring charts."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from appliance.engine.imports.pipeline import ImportTarget
from appliance.engine.inventory import VmQuery, VmSort
from appliance.engine.model import BLANK_TEMPLATE_ID, GiB, MiB, Vm
from appliance.engine.vm_provisioning import NewVm
from appliance.errors import InvalidInput, VirtStickError
from webui import vm_bulk, vm_forms
from webui.form_values import Form, given_number, number, text
from webui.history_charts import vm_page
from webui.outcome import back_or
from webui.session import actor, admin_required, engine
from webui.vm_actions import ADMIN_ACTIONS, VmAction, perform
from webui.vm_bulk import BulkAction, BulkResult
from webui.vm_forms import Refusal

blueprint = Blueprint("vms", __name__)

PAGE_SIZE = 100
NEW_VM = "new-vm"
IMPORT_OVA = "import-ova"
BULK_REMOVE = "bulk-remove"


@blueprint.get("/vms")
@admin_required
def index() -> str:
    return _list_page()


@blueprint.post("/vms")
@admin_required
def create() -> ResponseReturnValue:
    form = request.form
    try:
        vm = _create_vm_from_form(form)
    except VirtStickError as exc:
        # The dialog opens again with the engine's refusal and what was typed.
        return _list_page(Refusal(NEW_VM, exc.detail, form)), exc.status
    flash(f"VM {vm.name} was created.", "success")
    if form.get("start_after"):
        return perform(vm.id, VmAction.START, allowed=ADMIN_ACTIONS,
                       then=url_for("admin.vms.show", vm_id=vm.id))
    return redirect(url_for("admin.vms.show", vm_id=vm.id))


@blueprint.post("/vms/import")
@admin_required
def import_ova() -> ResponseReturnValue:
    """An OVA in a directory of the host becomes a VM (or a template, as its descriptor
    says), made by a job."""
    form = request.form
    try:
        path = text(form, "path")
        if not path.startswith("/"):
            raise InvalidInput(f"'{path[:80]}' is not an absolute path on the host.")
        imported = engine().importer.import_ova(Path(path), ImportTarget(
            cluster_id=text(form, "cluster_id") or engine().clusters.default().id,
            storage_domain_id=text(form, "storage_domain_id")
            or engine().storage_domains.default().id,
            name=text(form, "name")), actor=actor())
    except VirtStickError as exc:
        return _list_page(Refusal(IMPORT_OVA, exc.detail, form)), exc.status
    unmapped = f" Not brought over: {', '.join(imported.unmapped)}." if imported.unmapped else ""
    flash(f"{imported.job.description}: Tasks shows how far it is.{unmapped}", "success")
    if imported.kind == "template":
        return redirect(url_for("admin.templates.index"))
    return redirect(url_for("admin.vms.show", vm_id=imported.id))


@blueprint.post("/vms/bulk")
@admin_required
def bulk() -> ResponseReturnValue:
    """The ticked VMs: run, shut down, or (once confirmed) remove them; the list comes back
    with what happened to each."""
    try:
        action = BulkAction(request.form.get("bulk", ""))
    except ValueError:
        abort(400)
    chosen = request.form.getlist("vm_id")
    if not chosen:
        flash("Tick the VMs to act on first.", "error")
        return redirect(back_or(url_for("admin.vms.index")))
    if action is BulkAction.REMOVE and not request.form.get("confirmed"):
        return _list_page(confirm_removal=chosen)
    results = vm_bulk.apply(engine(), action, chosen, actor())
    return _list_page(results=results)


@blueprint.get("/vms/<vm_id>")
@admin_required
def show(vm_id: str) -> str:
    return _vm_page(vm_id, None)


@blueprint.post("/vms/<vm_id>/action")
@admin_required
def action(vm_id: str) -> Response:
    return perform(vm_id, request.form.get("action", ""), allowed=ADMIN_ACTIONS,
                   then=back_or(url_for("admin.vms.show", vm_id=vm_id)))


@blueprint.post("/vms/<vm_id>/<form>")
@admin_required
def submit(vm_id: str, form: str) -> ResponseReturnValue:
    return vm_forms.submit(vm_id, form, admin=True, render=_vm_page,
                           vm_url=lambda vid: url_for("admin.vms.show", vm_id=vid),
                           list_url=url_for("admin.vms.index"))


@blueprint.get("/vms/<vm_id>/monitoring")
@admin_required
def monitoring(vm_id: str) -> str:
    return vm_page(vm_id, portal="admin")


def _vm_page(vm_id: str, refusal: Refusal | None) -> str:
    details = engine().inventory.get_vm_details(vm_id, actor=actor())
    return render_template("admin/vm.html", vm=details.vm, details=details, refusal=refusal)


def list_query() -> VmQuery:
    """What the list's address asks for: ``q``, ``sort`` (a column), ``dir`` (``desc``),
    ``host`` and ``cluster``; an unknown column is a bad request."""
    args = request.args
    try:
        sort = VmSort(args.get("sort", VmSort.NAME.value))
    except ValueError:
        abort(400)
    return VmQuery(text=args.get("q", "")[:200], sort=sort, descending=args.get("dir") == "desc",
                   host_id=args.get("host", ""), cluster_id=args.get("cluster", ""))


def _list_page(refusal: Refusal | None = None, *, results: list[BulkResult] | None = None,
               confirm_removal: list[str] | None = None) -> str:
    """The VM list in pages of 100 rows, as oVirt's Admin Portal shows them (search covers
    every VM), with the resource tree and the New VM and Import OVA dialogs; ``refusal``
    opens a refused dialog again."""
    query = list_query()
    who = actor()
    rows = engine().inventory.list_vm_rows(actor=who, query=query)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), pages)
    names = engine().inventory.list_vm_names(actor=who) if confirm_removal else {}
    new_vm = refusal if refusal and refusal.form == NEW_VM else None
    return render_template(
        "admin/vms.html", rows=rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE], total=len(rows),
        page=page, pages=pages, query=query, tree=engine().inventory.get_resource_tree(actor=who),
        form=engine().inventory.get_new_vm_choices(actor=who), refusal=refusal,
        values=new_vm.values if new_vm else None, error=new_vm.error if new_vm else "",
        open_dialog=new_vm is not None, results=results or [],
        removing=[(vm_id, names[vm_id]) for vm_id in confirm_removal or () if vm_id in names])


def _create_vm_from_form(form: Form) -> Vm:
    """New VM dialog: a VM from the chosen template; for the Blank template a new disk of
    the size asked for (the field belongs to that choice), made in one step by the engine."""
    template_id = form.get("template_id") or BLANK_TEMPLATE_ID
    memory_mib = given_number(form, "memory_mib", noun="Memory")
    disk_gib = number(form, "disk_gib", default=0, noun="Disk size") \
        if template_id == BLANK_TEMPLATE_ID else 0
    return engine().vm_provisioning.create(NewVm(
        name=text(form, "name"), template_id=template_id,
        cluster_id=form.get("cluster_id") or None,
        memory=None if memory_mib is None else memory_mib * MiB,
        cpu_sockets=given_number(form, "cpus", noun="CPUs"),
        description=form.get("description", ""),
        disk_size=disk_gib * GiB, storage_domain_id=form.get("storage_domain_id") or None,
        vnic_profile_id=form.get("vnic_profile_id") or None,
        iso_id=form.get("iso_id") or None, boot_from_cdrom=form.get("boot") == "cdrom"),
        actor=actor())

