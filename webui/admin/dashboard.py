"""Admin Portal, the dashboard: the lab's totals, its storage and the latest events. It is
the portal's front page, so its view is the ``admin`` blueprint's own (``admin.dashboard``)."""

from __future__ import annotations

from flask import render_template

from webui.session import actor, admin_required, engine


@admin_required
def index() -> str:
    return render_template("admin/dashboard.html",
                           board=engine().inventory.get_dashboard(actor=actor()))
