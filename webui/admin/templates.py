"""Admin Portal, templates: each with its VMs and disks; removing one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError
from webui.session import actor, admin_required, engine

blueprint = Blueprint("templates", __name__)


@blueprint.get("/templates")
@admin_required
def index() -> str:
    return render_template("admin/templates.html",
                           rows=engine().inventory.list_template_rows(actor=actor()))


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
