"""``/events`` (the audit log) and ``/jobs`` (found by correlation id too)."""

from __future__ import annotations

from flask import Response, request

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type, iso_time
from appliance.engine.authz import can_use_vm
from appliance.engine.enums import EventSeverity, JobStatus
from appliance.engine.model import Event, Job
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

JOB = Type(
    tag="job", plural="jobs", description="An operation and how it went",
    links=("steps",),
    fields=(
        Field("description", get=lambda j: j.description),
        Field("status", get=lambda j: j.status.value, values=tuple(JobStatus)),
        Field("start_time", Kind.DATE, get=lambda j: j.start_time),
        Field("end_time", Kind.DATE, get=lambda j: j.end_time or None),
        Field("last_updated", Kind.DATE, get=lambda j: j.end_time or j.start_time),
        Field("external", Kind.BOOLEAN, get=lambda j: False),
        Field("auto_cleared", Kind.BOOLEAN, get=lambda j: True),
        Field("comment", get=lambda j: j.error or None),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/events", Operation.LIST, tag="event",
               summary="Recent events, newest first")(list_events)
    routes.add("/events/<event_id>", Operation.GET, tag="event", summary="Get an event")(
        get_event)
    routes.add("/jobs", Operation.LIST, tag="job", summary="List jobs")(list_jobs)
    routes.add("/jobs/<job_id>", Operation.GET, tag="job", summary="Get a job")(get_job)


def _visible(event: Event) -> bool:
    actor = http.actor()
    if actor.superuser:
        return True
    if event.vm_id is None:
        return False
    vm = http.engine().store.vms.find(event.vm_id)
    return vm is not None and can_use_vm(actor, vm)


def list_events() -> Response:
    limit = http.query_int("max")
    since_text = request.args.get("from", "0")
    since = int(since_text) if since_text.isdigit() else 0
    events = http.engine().events.recent(limit=min(limit if limit and limit > 0 else 100,
                                                   1000), since_id=since)
    visible = [e for e in events if _visible(e)]
    return listing.list_response(EVENT, visible, searchable={
        "severity": lambda e: e.severity.value, "id": lambda e: e.id,
        "description": lambda e: e.description, "correlation_id": lambda e: e.correlation_id,
        "vm.id": lambda e: e.vm_id, "code": lambda e: e.code.number,
        "type": lambda e: e.code.number,  # what oVirt's search calls the number
        "host.id": lambda e: e.host_id, "storage_domain.id": lambda e: e.storage_domain_id,
        "user": lambda e: e.user, "comment": lambda e: e.code.value,
        "time": lambda e: iso_time(e.time)})


def get_event(event_id: str) -> Response:
    found = http.engine().events.get(int(event_id)) if event_id.isdigit() else None
    if found is None or not _visible(found):
        raise NotFound(f"There is no event with id '{event_id[:40]}'.")
    return http.respond_object(EVENT, found)


def _jobs() -> list[Job]:
    actor = http.actor()
    jobs = http.engine().store.jobs.all()
    if actor.superuser:
        return jobs
    return [j for j in jobs if j.owner == actor.name]


def list_jobs() -> Response:
    jobs = _jobs()
    correlation = request.args.get("correlation_id")
    if correlation:
        jobs = [j for j in jobs if j.correlation_id == correlation]
    return listing.list_response(JOB, jobs, searchable={
        "correlation_id": lambda j: j.correlation_id, "id": lambda j: j.id,
        "status": lambda j: j.status.value, "description": lambda j: j.description})


def get_job(job_id: str) -> Response:
    for job in _jobs():
        if job.id == job_id:
            return http.respond_object(JOB, job)
    raise NotFound(f"There is no job with id '{job_id[:60]}'.")
