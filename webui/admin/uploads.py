"""Admin Portal, uploads: an ISO image or a disk image from the browser, through an image
transfer as oVirt's portal does. The page asks here for a new disk and its transfer, sends the
file straight to the daemon at the transfer's URL (so its progress is the browser's own and
the data never passes through the service), then finalizes or cancels here."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from appliance.engine.transfers.model import ImageTransfer
from appliance.engine.transfers.uploads import DiskUpload, UploadKind
from appliance.errors import InvalidInput
from webui.session import actor, admin_required, engine

blueprint = Blueprint("uploads", __name__)


@blueprint.post("/uploads")
@admin_required
def start() -> Response:
    """JSON ``{name, kind: iso|raw|qcow2, file_size, virtual_size, storage_domain_id}``."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("The upload request is not a JSON object.")
    try:
        upload = DiskUpload(
            name=str(body.get("name", "")), kind=UploadKind(str(body.get("kind", ""))),
            file_size=int(body.get("file_size", 0)),
            virtual_size=int(body.get("virtual_size") or body.get("file_size", 0)),
            storage_domain_id=str(body.get("storage_domain_id") or
                                  engine().storage_domains.default().id))
    except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400 is inf
        raise InvalidInput("The upload request needs a name, a kind (iso, raw or qcow2) and "
                           "sizes in bytes.") from None
    transfer = engine().disk_uploads.start(upload, actor=actor())
    return _answer(transfer)


@blueprint.get("/uploads/<transfer_id>")
@admin_required
def status(transfer_id: str) -> Response:
    return _answer(engine().image_transfers.get(transfer_id, actor=actor()))


@blueprint.post("/uploads/<transfer_id>/finalize")
@admin_required
def finalize(transfer_id: str) -> Response:
    return _answer(engine().image_transfers.finalize(transfer_id, actor=actor()))


@blueprint.post("/uploads/<transfer_id>/cancel")
@admin_required
def cancel(transfer_id: str) -> Response:
    return _answer(engine().image_transfers.cancel(transfer_id, actor=actor()))


def _answer(transfer: ImageTransfer) -> Response:
    urls = engine().image_transfers.urls(transfer, engine_host=request.host.rsplit(":", 1)[0])
    return jsonify(id=transfer.id, disk_id=transfer.disk_id, phase=transfer.phase.value,
                   finished=transfer.phase.finished, message=transfer.message,
                   url=urls.proxy_url if urls else None)
