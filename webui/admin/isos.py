"""Admin Portal, ISO images: upload one (through an image transfer, see ``uploads``), see
which VMs hold it, remove it."""

from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from webui.outcome import act
from webui.session import actor, admin_required, engine

blueprint = Blueprint("isos", __name__)


@blueprint.get("/isos")
@admin_required
def index() -> str:
    inventory = engine().inventory
    return render_template("admin/isos.html", rows=inventory.list_iso_rows(actor=actor()),
                           domains=inventory.list_storage_domains(actor=actor()),
                           limit=engine().config.storage.iso_max_size)


@blueprint.post("/isos/<disk_id>/delete")
@admin_required
def delete(disk_id: str) -> Response:
    return act(lambda: engine().isos.remove(disk_id, actor=actor()),
               done="The ISO image was removed.", back="admin.isos.index")
