"""Admin Portal, monitoring: charts of every host and storage domain over a period."""

from __future__ import annotations

from flask import Blueprint, render_template

from webui.history_charts import HOST_CHARTS, STORAGE_CHARTS, Period, charts, requested_period
from webui.session import actor, admin_required, engine

blueprint = Blueprint("monitoring", __name__)


@blueprint.get("/monitoring")
@admin_required
def index() -> str:
    period = requested_period()
    hosts = [(h, charts(h.id, HOST_CHARTS, period)) for h in engine().hosts.list()]
    domains = [(d, charts(d.id, STORAGE_CHARTS, period))
               for d in engine().inventory.list_storage_domains(actor=actor())]
    return render_template("admin/monitoring.html", period=period, periods=list(Period),
                           hosts=hosts, domains=domains, interval=engine().monitor.interval)
