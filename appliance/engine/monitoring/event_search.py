"""Finding events: by lowest severity, object, words and period, newest first; the portals'
events view filters with it."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.enums import EventSeverity
from appliance.engine.model import Event
from appliance.engine.store import Database, codec

# Increasing gravity; oVirt's own order.
SEVERITY_ORDER = (EventSeverity.NORMAL, EventSeverity.WARNING, EventSeverity.ERROR,
                  EventSeverity.ALERT)


@dataclass(frozen=True)
class EventFilter:
    min_severity: EventSeverity = EventSeverity.NORMAL
    vm_id: str | None = None
    host_id: str | None = None
    text: str = ""  # words the description or code contains, case-insensitive
    since: float | None = None
    until: float | None = None
    limit: int = 200


def search(db: Database, query: EventFilter) -> list[Event]:
    wanted = SEVERITY_ORDER[SEVERITY_ORDER.index(query.min_severity):]
    clauses = [f"severity IN ({', '.join('?' for _ in wanted)})"]
    params: list[object] = [s.value for s in wanted]
    for column, value in (("vm_id", query.vm_id), ("host_id", query.host_id)):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    if query.since is not None:
        clauses.append("time >= ?")
        params.append(query.since)
    if query.until is not None:
        clauses.append("time < ?")
        params.append(query.until)
    for word in query.text.lower().split():
        # The description and code live in the JSON; instr() needs no escaping of % or _.
        clauses.append("(instr(lower(json_extract(data, '$.description')), ?) > 0 OR "
                       "instr(lower(json_extract(data, '$.code')), ?) > 0)")
        params += [word, word]
    rows = db.query(f"SELECT data FROM events WHERE {' AND '.join(clauses)} "
                    "ORDER BY id DESC LIMIT ?", (*params, max(1, min(query.limit, 5000))))
    return [codec.decode(Event, row["data"]) for row in rows]
