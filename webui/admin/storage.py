"""Admin Portal, storage domains: their space, what they promise and their overcommit."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.session import actor, admin_required, engine

blueprint = Blueprint("storage", __name__)


@blueprint.get("/storage")
@admin_required
def index() -> str:
    return render_template("admin/storage.html",
                           rows=engine().inventory.list_domain_rows(actor=actor()))
