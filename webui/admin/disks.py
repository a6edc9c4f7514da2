"""Admin Portal, disks: every disk with its storage domain and the VM it belongs to."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.session import actor, admin_required, engine

blueprint = Blueprint("disks", __name__)


@blueprint.get("/disks")
@admin_required
def index() -> str:
    inventory = engine().inventory
    return render_template("admin/disks.html", rows=inventory.list_disk_rows(actor=actor()),
                           domains=inventory.list_storage_domains(actor=actor()))
