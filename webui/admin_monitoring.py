"""Portal monitoring: charts of the hosts, storage and each VM from history (a VM's charts
in the User Portal too), the reports page (CSV and JSON downloads) and the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flask import Response, abort, render_template, request
from markupsafe import Markup

from appliance.engine.audit import AuditResult
from appliance.engine.monitoring.history import DAY, HOUR
from appliance.engine.monitoring.reports import ExportFormat, ReportKind, storage_growth, vm_usage
from webui.admin_vms import blueprint
from webui.charts import Line, line_chart
from webui.session import actor, admin_required, engine, login_required
from webui.userportal import blueprint as user_blueprint


class Period(StrEnum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"

    @property
    def seconds(self) -> int:
        return {"hour": HOUR, "day": DAY, "month": 30 * DAY}[self.value]


# Chart title, unit, top of the scale (None: from the data), history keys drawn.
ChartSpec = tuple[str, str, float | None, tuple[str, ...]]

HOST_CHARTS: tuple[ChartSpec, ...] = (
    ("CPU", "%", 100.0, ("cpu_used", "cpu_system", "cpu_iowait")),
    ("Memory", "B", None, ("mem_used", "mem_cached", "ksm_saved")),
    ("Network", "B/s", None, ("net_rx", "net_tx")),
    ("Block devices", "B/s", None, ("disk_read", "disk_write")),
)
VM_CHARTS: tuple[ChartSpec, ...] = (
    ("CPU", "%", 100.0, ("cpu",)),
    ("Memory", "B", None, ("mem_used", "mem_current")),
    ("Disk I/O", "B/s", None, ("disk_read", "disk_write")),
    ("Network", "B/s", None, ("net_rx", "net_tx")),
)
STORAGE_CHARTS: tuple[ChartSpec, ...] = (("Space", "B", None, ("used", "committed", "capacity")),)


def _period() -> Period:
    try:
        return Period(request.args.get("period", Period.HOUR.value))
    except ValueError:
        abort(400)


def charts(object_id: str, specs: Sequence[ChartSpec], period: Period) -> list[Markup]:
    history = engine().monitor.history
    points = history.series(object_id, since=history.clock.now() - period.seconds)
    drawn = []
    for title, unit, top, keys in specs:
        lines = [Line(key, [(p.time, p.values[key]) for p in points if key in p.values])
                 for key in keys]
        # The SVG is built from numbers and escaped labels only.
        drawn.append(Markup(line_chart(title, lines, unit=unit, maximum=top)))  # noqa: S704
    return drawn


@blueprint.get("/monitoring")
@admin_required
def monitoring() -> str:
    period = _period()
    hosts = [(h, charts(h.id, HOST_CHARTS, period)) for h in engine().hosts.list()]
    domains = [(d, charts(d.id, STORAGE_CHARTS, period))
               for d in engine().inventory.list_storage_domains(actor=actor())]
    return render_template("admin/monitoring.html", period=period, periods=list(Period),
                           hosts=hosts, domains=domains,
                           interval=engine().monitor.interval)


@blueprint.get("/vms/<vm_id>/monitoring")
@admin_required
def vm_monitoring(vm_id: str) -> str:
    return _vm_page(vm_id, portal="admin")


@user_blueprint.get("/vms/<vm_id>/monitoring")
@login_required
def user_vm_monitoring(vm_id: str) -> str:
    return _vm_page(vm_id, portal="user")


def _vm_page(vm_id: str, *, portal: str) -> str:
    period = _period()
    vm = engine().vms.get(vm_id, actor=actor())  # someone else's VM is not found
    latest = engine().monitor.latest(vm.id)
    return render_template("admin/vm_monitoring.html", vm=vm, period=period,
                           periods=list(Period), charts=charts(vm.id, VM_CHARTS, period),
                           latest=latest.values if latest else {}, portal=portal,
                           layout=f"{portal}/_layout.html")


@blueprint.get("/reports")
@admin_required
def reports() -> str | Response:
    period = _period()
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


@blueprint.get("/audit")
@admin_required
def audit() -> str:
    result_text = request.args.get("result", "")
    try:
        result = AuditResult(result_text) if result_text else None
    except ValueError:
        abort(400)
    user = request.args.get("user", "").strip() or None
    entries = engine().audit.search(user=user, result=result, limit=500)
    return render_template("admin/audit.html", entries=entries, results=list(AuditResult),
                           result=result_text, user=user or "")
