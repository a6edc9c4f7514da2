"""Admin Portal, networks: the logical networks and their vNIC profiles."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.session import actor, admin_required, engine

blueprint = Blueprint("networks", __name__)


@blueprint.get("/networks")
@admin_required
def index() -> str:
    return render_template("admin/networks.html",
                           rows=engine().inventory.list_network_rows(actor=actor()))
