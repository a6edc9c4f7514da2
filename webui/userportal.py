"""User Portal: the VMs a user may use, with start, stop, console and charts, and what she
may change on her own VMs (clone, snapshots, disks, NICs, the CD-ROM) through the same
forms as the Admin Portal's."""

from __future__ import annotations

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from webui import vm_forms
from webui.blueprint import portal_blueprint
from webui.history_charts import vm_page
from webui.outcome import back_or
from webui.session import actor, engine, login_required
from webui.vm_actions import USER_ACTIONS, perform
from webui.vm_forms import Refusal

blueprint = portal_blueprint("user", __name__, url_prefix="/user")


@blueprint.get("/")
@login_required
def index() -> str:
    return render_template("user/index.html",
                           rows=engine().inventory.list_vm_rows(actor=actor()))


@blueprint.get("/vms/<vm_id>")
@login_required
def vm(vm_id: str) -> str:
    return _vm_page(vm_id, None)


@blueprint.get("/vms/<vm_id>/monitoring")
@login_required
def vm_monitoring(vm_id: str) -> str:
    return vm_page(vm_id, portal="user")


@blueprint.post("/vms/<vm_id>/action")
@login_required
def vm_action(vm_id: str) -> Response:
    return perform(vm_id, request.form.get("action", ""), allowed=USER_ACTIONS,
                   then=back_or(url_for("user.index")))


@blueprint.post("/vms/<vm_id>/<form>")
@login_required
def vm_submit(vm_id: str, form: str) -> ResponseReturnValue:
    """The forms of her VM's page; those only an administrator has are not found here."""
    return vm_forms.submit(vm_id, form, admin=False, render=_vm_page,
                           vm_url=lambda vid: url_for("user.vm", vm_id=vid),
                           list_url=url_for("user.index"))


def _vm_page(vm_id: str, refusal: Refusal | None) -> str:
    details = engine().inventory.get_vm_details(vm_id, actor=actor())
    return render_template("user/vm.html", vm=details.vm, details=details, refusal=refusal)
