"""Admin Portal, templates: each with its VMs and disks; exporting one as an OVA, removing
one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError
from webui.form_values import text
from webui.session import actor, admin_required, engine
from webui.vm_forms import Refusal

blueprint = Blueprint("templates", __name__)

EXPORT = "export-template"


@blueprint.get("/templates")
@admin_required
def index() -> str:
    return _page(None)


def _page(refusal: Refusal | None) -> str:
    return render_template("admin/templates.html",
                           rows=engine().inventory.list_template_rows(actor=actor()),
                           refusal=refusal)


@blueprint.post("/templates/export")
@admin_required
def export() -> ResponseReturnValue:
    """The chosen template as an OVA in a directory of the host, written by a job."""
    form = request.form
    try:
        job = engine().ova_exporter.export_template(
            text(form, "template_id"), directory=text(form, "directory"),
            filename=text(form, "filename"), actor=actor())
    except VirtStickError as exc:
        return _page(Refusal(EXPORT, exc.detail, form)), exc.status
    flash(f"{job.description}: Tasks shows how far it is.", "success")
    return redirect(url_for("admin.templates.index"))


@blueprint.post("/templates/<template_id>/delete")
@admin_required
def delete(template_id: str) -> Response:
    name = next((t.name for t in engine().templates.list() if t.id == template_id), "")
    try:
        engine().templates.remove(template_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"Template {name} was removed.", "success")
    return redirect(url_for("admin.templates.index"))
