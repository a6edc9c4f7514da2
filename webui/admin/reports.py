"""Admin Portal, reports: VM usage and storage growth over a period, as a table or as CSV
and JSON downloads."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from appliance.engine.monitoring.reports import ExportFormat, ReportKind, storage_growth, vm_usage
from webui.history_charts import Period, requested_period
from webui.session import actor, admin_required, engine

blueprint = Blueprint("reports", __name__)


@blueprint.get("/reports")
@admin_required
def index() -> str | Response:
    period = requested_period()
    try:
        kind = ReportKind(request.args.get("report", ReportKind.VM_USAGE.value))
        fmt = ExportFormat(request.args["format"]) if "format" in request.args else None
    except ValueError:
        abort(400)
    e = engine()
    until = e.monitor.history.clock.now()
    since = until - period.seconds
    if kind is ReportKind.VM_USAGE:
        report = vm_usage(e.monitor.history, e.vms.list(actor=actor()), since=since,
                          until=until, interval=e.monitor.interval)
    else:
        report = storage_growth(e.monitor.history,
                                e.inventory.list_storage_domains(actor=actor()), since=since,
                                until=until)
    if fmt is not None:
        name = f"virtstick-{kind.value}-{period.value}.{fmt.value}"
        return Response(report.export(fmt), content_type=fmt.content_type,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("admin/reports.html", report=report, kind=kind, kinds=list(ReportKind),
                           period=period, periods=list(Period))
