"""Charts of the monitoring history for the portals' pages: which series each chart draws,
the periods a page may show, and a VM's monitoring page (both portals show it)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from flask import abort, render_template, request
from markupsafe import Markup

from appliance.engine.monitoring.history import DAY, HOUR
from webui.charts import Line, LiveChart, line_chart
from webui.session import actor, engine
from webui.words import words


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


def requested_period() -> Period:
    """The ``period`` the page asks for (an hour by default); another word is a bad request."""
    try:
        return Period(request.args.get("period", Period.HOUR.value))
    except ValueError:
        abort(400)


def charts(object_id: str, specs: Sequence[ChartSpec], period: Period) -> list[Markup]:
    """Each chart as an SVG that live.js extends with the object's new samples."""
    history = engine().monitor.history
    since = history.clock.now() - period.seconds
    points = history.series(object_id, since=since)
    step = history.tiers[history.tier_for(period.seconds)].step
    live = LiveChart(object_id=object_id, window=period.seconds, step=step)
    drawn = []
    for title, unit, top, keys in specs:
        lines = [Line(words(key), [(p.time, p.values[key]) for p in points if key in p.values],
                      key=key) for key in keys]
        # The SVG is built from numbers and escaped labels only.
        drawn.append(Markup(line_chart(title, lines, unit=unit, maximum=top,  # noqa: S704
                                       live=live)))
    return drawn


def vm_page(vm_id: str, *, portal: str) -> str:
    """A VM's charts, in the layout of ``portal`` ("admin" or "user")."""
    period = requested_period()
    vm = engine().vms.get(vm_id, actor=actor())  # someone else's VM is not found
    latest = engine().monitor.latest(vm.id)
    return render_template("admin/vm_monitoring.html", vm=vm, period=period,
                           periods=list(Period), charts=charts(vm.id, VM_CHARTS, period),
                           latest=latest.values if latest else {}, portal=portal,
                           layout=f"{portal}/_layout.html")
