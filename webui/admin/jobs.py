"""Admin Portal, jobs: running ones first, then the latest finished, with their progress."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.session import actor, admin_required, engine

blueprint = Blueprint("jobs", __name__)

SHOWN = 200


@blueprint.get("/jobs")
@admin_required
def index() -> str:
    return render_template("admin/jobs.html",
                           jobs=engine().inventory.list_jobs(actor=actor(), limit=SHOWN))
