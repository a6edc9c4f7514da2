"""User Portal: the VMs a user may use, with start, stop, console, snapshots and charts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError
from webui.blueprint import portal_blueprint
from webui.history_charts import vm_page
from webui.outcome import back_or
from webui.session import actor, engine, login_required
from webui.vm_actions import USER_ACTIONS, perform

blueprint = portal_blueprint("user", __name__, url_prefix="/user")


@blueprint.get("/")
@login_required
def index() -> str:
    return render_template("user/index.html",
                           rows=engine().inventory.list_vm_rows(actor=actor()))


@blueprint.get("/vms/<vm_id>")
@login_required
def vm(vm_id: str) -> str:
    details = engine().inventory.get_vm_details(vm_id, actor=actor())
    return render_template("user/vm.html", vm=details.vm, details=details)


@blueprint.get("/vms/<vm_id>/monitoring")
@login_required
def vm_monitoring(vm_id: str) -> str:
    return vm_page(vm_id, portal="user")


@blueprint.post("/vms/<vm_id>/action")
@login_required
def vm_action(vm_id: str) -> Response:
    return perform(vm_id, request.form.get("action", ""), allowed=USER_ACTIONS,
                   then=back_or(url_for("user.index")))


@blueprint.post("/vms/<vm_id>/snapshots")
@login_required
def snapshot(vm_id: str) -> Response:
    try:
        engine().snapshots.create(vm_id, description=request.form.get("description", "").strip()
                       or "Snapshot from the User Portal", actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash("The snapshot is being taken.", "success")
    return redirect(url_for("user.vm", vm_id=vm_id))


@blueprint.post("/vms/<vm_id>/snapshots/<snapshot_id>/<action>")
@login_required
def snapshot_action(vm_id: str, snapshot_id: str, action: str) -> Response:
    """Restore the VM to a snapshot (it must be down) or remove a snapshot."""
    service = engine().snapshots
    try:
        if action == "restore":
            service.restore(vm_id, snapshot_id, actor=actor())
            flash("The VM was restored to the snapshot.", "success")
        elif action == "remove":
            service.remove(vm_id, snapshot_id, actor=actor())
            flash("The snapshot was removed.", "success")
        else:
            abort(404)
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("user.vm", vm_id=vm_id))
