"""Admin Portal, ISO images: upload one (streamed, with its progress), see which VMs hold
it, remove it."""

from __future__ import annotations

from typing import BinaryIO, cast

from flask import Blueprint, jsonify, render_template, request
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


@blueprint.put("/isos/<name>")
@admin_required
def upload(name: str) -> Response:
    """The file is the request body (the page sends it with its upload progress), streamed
    into the storage domain; the form's size limit does not apply, the ISO limit does."""
    request.max_content_length = engine().config.storage.iso_max_size
    domain_id = request.args.get("storage_domain_id") or engine().storage_domains.default().id
    disk = engine().isos.upload(cast(BinaryIO, request.stream), name=name,
                                storage_domain_id=domain_id, actor=actor(),
                                size=request.content_length)
    return jsonify(id=disk.id, name=disk.name, size=disk.provisioned_size)


@blueprint.post("/isos/<disk_id>/delete")
@admin_required
def delete(disk_id: str) -> Response:
    return act(lambda: engine().isos.remove(disk_id, actor=actor()),
               done="The ISO image was removed.", back="admin.isos.index")
