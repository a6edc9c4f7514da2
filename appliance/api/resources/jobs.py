"""``/jobs``: long operations and how they went, also found by correlation id."""

from __future__ import annotations

from flask import Response, request

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import JobStatus

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
    routes.add("/jobs", Operation.LIST, tag="job", summary="List jobs")(list_jobs)
    routes.add("/jobs/<job_id>", Operation.GET, tag="job", summary="Get a job")(get_job)


def list_jobs() -> Response:
    jobs = http.engine().jobs.list(actor=http.actor(),
                                   correlation_id=request.args.get("correlation_id", ""))
    return listing.list_response(JOB, jobs, searchable={
        "correlation_id": lambda j: j.correlation_id, "id": lambda j: j.id,
        "status": lambda j: j.status.value, "description": lambda j: j.description})


def get_job(job_id: str) -> Response:
    return http.respond_object(JOB, http.engine().jobs.get(job_id, actor=http.actor()))
