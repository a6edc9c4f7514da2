"""Admin Portal, events: filtered by lowest severity, VM, host, words and period."""

from __future__ import annotations

import time

from flask import Blueprint, abort, render_template, request

from appliance.engine.enums import EventSeverity
from appliance.engine.monitoring.event_search import EventFilter
from appliance.engine.monitoring.history import DAY, HOUR
from webui.session import actor, admin_required, engine

blueprint = Blueprint("events", __name__)

SPANS = {"hour": HOUR, "day": DAY, "month": 30 * DAY}
SHOWN = 300
LONGEST_TEXT = 200


@blueprint.get("/events")
@admin_required
def index() -> str:
    severity = request.args.get("severity", "")
    period = request.args.get("period", "")
    try:
        query = EventFilter(
            min_severity=EventSeverity(severity) if severity else EventSeverity.NORMAL,
            vm_id=request.args.get("vm") or None, host_id=request.args.get("host") or None,
            text=request.args.get("q", "")[:LONGEST_TEXT],
            since=time.time() - SPANS[period] if period else None, limit=SHOWN)
    except (ValueError, KeyError):
        abort(400)
    inventory = engine().inventory
    return render_template("admin/events.html",
                           rows=inventory.search_events(query, actor=actor()),
                           severity=severity, vm=query.vm_id or "", host=query.host_id or "",
                           text=query.text, period=period,
                           vm_names=inventory.list_vm_names(actor=actor()),
                           host_names=inventory.list_host_names(actor=actor()))
