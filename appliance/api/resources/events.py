"""``/events``: the event log, newest first; a user sees the events of their own VMs."""

from __future__ import annotations

from flask import Response, request

from appliance.api import http, listing, terms
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, iso_time
from appliance.engine.enums import EventSeverity
from appliance.errors import NotFound

EVENT = Type(
    tag="event", plural="events", description="Something that happened",
    fields=(
        Field("code", Kind.INTEGER, get=lambda e: e.code.number),  # oVirt's number, if shared
        Field("comment", get=lambda e: e.code.value),  # our stable textual code
        Field("description", get=lambda e: e.description),
        Field("severity", get=lambda e: e.severity.value, values=tuple(EventSeverity)),
        Field("time", Kind.DATE, get=lambda e: e.time),
        Field("origin", get=lambda e: "VirtStick"),
        Field("correlation_id", get=lambda e: e.correlation_id or None),
        Field("vm", Kind.REF, get=lambda e: e.vm_id, ref="vms"),
        Field("host", Kind.REF, get=lambda e: e.host_id, ref="hosts"),
        Field("storage_domain", Kind.REF, get=lambda e: e.storage_domain_id,
              ref="storagedomains"),
    ),
)

SEARCHABLE: terms.Terms = {
    "id": lambda e: e.id,
    "severity": lambda e: e.severity.value,
    "description": lambda e: e.description,
    "message": lambda e: e.description,
    "correlation_id": lambda e: e.correlation_id,
    "type": lambda e: e.code.number,  # what oVirt's search calls the number: type=1152
    "code": lambda e: e.code.number,
    "comment": lambda e: e.code.value,
    "vm.id": lambda e: e.vm_id,
    "vm.name": lambda e: terms.vm_name(e.vm_id),
    "host.id": lambda e: e.host_id,
    "host.name": lambda e: terms.host_name(e.host_id),
    "storage_domain.id": lambda e: e.storage_domain_id,
    "user": lambda e: e.user,
    "usrname": lambda e: e.user,
    "time": lambda e: iso_time(e.time),
}


def install(routes: Routes) -> None:
    routes.add("/events", Operation.LIST, tag="event",
               summary="Recent events, newest first")(list_events)
    routes.add("/events/<event_id>", Operation.GET, tag="event", summary="Get an event")(
        get_event)


def list_events() -> Response:
    limit = http.query_int("max")
    since = _event_number(request.args.get("from", "0")) or 0
    visible = http.engine().visible_events.list(
        actor=http.actor(), limit=min(limit if limit and limit > 0 else 100, 1000),
        since_id=since)
    return listing.list_response(EVENT, visible, searchable=SEARCHABLE)


def get_event(event_id: str) -> Response:
    number = _event_number(event_id)
    if number is None:
        raise NotFound(f"There is no event with id '{event_id[:40]}'.")
    found = http.engine().visible_events.get(number, actor=http.actor())
    return http.respond_object(EVENT, found)


def _event_number(text: str) -> int | None:
    """An event id as the store can hold one: ASCII digits ('²' is a digit to ``isdigit``,
    not to ``int``) within SQLite's 64-bit integers."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text)
