"""``/jobs``: long operations and how they went, also found by correlation id; external jobs
(``POST /jobs``), their steps, and ending or clearing them."""

from __future__ import annotations

from flask import Response, request

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import JobStatus, StepType
from appliance.engine.external_jobs import Step
from appliance.errors import InvalidInput

JOB = Type(
    tag="job", plural="jobs", description="An operation and how it went",
    links=("steps",), accepted=frozenset({"comment", "name", "owner", "steps"}),
    fields=(
        Field("description", get=lambda j: j.description, writable=True),
        Field("status", get=lambda j: j.status.value, values=tuple(JobStatus),
              writable=True),
        Field("start_time", Kind.DATE, get=lambda j: j.start_time),
        Field("end_time", Kind.DATE, get=lambda j: j.end_time or None),
        Field("last_updated", Kind.DATE, get=lambda j: j.end_time or j.start_time),
        Field("external", Kind.BOOLEAN, get=lambda j: j.external, writable=True),
        Field("auto_cleared", Kind.BOOLEAN, get=lambda j: j.auto_cleared, writable=True),
        Field("comment", get=lambda j: j.error or None),
    ),
)

STEP = Type(
    tag="step", plural="steps", description="A step of a job",
    accepted=frozenset({"comment", "name", "execution_host", "statistics", "progress",
                        "start_time", "end_time", "number", "external_type"}),
    fields=(
        Field("description", get=lambda s: s.description, writable=True),
        Field("type", get=lambda s: s.type.value, values=tuple(StepType), writable=True),
        Field("status", get=lambda s: s.status.value, values=tuple(JobStatus),
              writable=True),
        Field("number", Kind.INTEGER, get=lambda s: s.number),
        Field("progress", Kind.INTEGER, get=lambda s: s.progress),
        Field("start_time", Kind.DATE, get=lambda s: s.start_time),
        Field("end_time", Kind.DATE, get=lambda s: s.end_time or None),
        Field("external", Kind.BOOLEAN, get=lambda s: s.external, writable=True),
        Field("job", Kind.REF, get=lambda s: s.job_id, ref="jobs", writable=True),
        Field("parent_step", Kind.REF, writable=True,
              get=lambda s: _step_ref(s.job_id, s.parent_id) if s.parent_id else None),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/jobs", Operation.LIST, tag="job", summary="List jobs")(list_jobs)
    routes.add("/jobs", Operation.ADD, tag="job", summary="Add an external job")(add_job)
    routes.add("/jobs/<job_id>", Operation.GET, tag="job", summary="Get a job")(get_job)
    routes.add("/jobs/<job_id>/end", Operation.ACTION, tag="action",
               summary="End an external job")(end_job)
    routes.add("/jobs/<job_id>/clear", Operation.ACTION, tag="action",
               summary="Clear an external job from the list")(clear_job)
    base = "/jobs/<job_id>/steps"
    routes.add(base, Operation.LIST, tag="step", summary="A job's steps")(list_steps)
    routes.add(base, Operation.ADD, tag="step",
               summary="Add a step to an external job")(add_step)
    routes.add(f"{base}/<step_id>", Operation.GET, tag="step", summary="Get a step")(get_step)
    routes.add(f"{base}/<step_id>/end", Operation.ACTION, tag="action",
               summary="End a step of an external job")(end_step)


def list_jobs() -> Response:
    jobs = http.engine().jobs.list(actor=http.actor(),
                                   correlation_id=request.args.get("correlation_id", ""))
    return listing.list_response(JOB, jobs, searchable={
        "correlation_id": lambda j: j.correlation_id, "id": lambda j: j.id,
        "status": lambda j: j.status.value, "description": lambda j: j.description})


def get_job(job_id: str) -> Response:
    return http.respond_object(JOB, http.engine().jobs.get(job_id, actor=http.actor()))


def add_job() -> Response:
    """``<job><description>…</description><external>true</external>…</job>``: only
    external jobs can be added; they start at once."""
    values = http.read(JOB)
    if values.get("external") is False:
        raise InvalidInput("Only external jobs can be added: send <external>true</external>.")
    if values.get("status", JobStatus.STARTED.value) != JobStatus.STARTED.value:
        raise InvalidInput("A new job is <status>started</status>; end it with its end "
                           "action.")
    job = http.engine().external_jobs.add(values.get("description", ""), actor=http.actor(),
                                          auto_cleared=values.get("auto_cleared", True))
    return http.respond_object(JOB, job, created=True)


def end_job(job_id: str) -> Response:
    node = http.read_action()
    http.engine().external_jobs.end(job_id, actor=http.actor(), succeeded=_succeeded(node),
                                    force=http.flag(node, "force", False))
    return http.respond_action()


def clear_job(job_id: str) -> Response:
    http.read_action()
    http.engine().external_jobs.clear(job_id, actor=http.actor())
    return http.respond_action()


def list_steps(job_id: str) -> Response:
    steps = http.engine().external_jobs.list_steps(job_id, actor=http.actor())
    return listing.list_response(STEP, steps, render=_render_step)


def get_step(job_id: str, step_id: str) -> Response:
    step = http.engine().external_jobs.get_step(job_id, step_id, actor=http.actor())
    return http.respond(STEP.tag, _render_step(step))


def add_step(job_id: str) -> Response:
    """``<step><description>…</description><type>unknown</type>…</step>``, optionally with
    ``<parent_step id>``."""
    values = http.read(STEP)
    job = values.get("job") or {}
    if job.get("id") and job["id"] != job_id:
        raise InvalidInput(f"This step belongs to job {job_id[:60]}, not {job['id'][:60]}.")
    parent = values.get("parent_step") or {}
    step = http.engine().external_jobs.add_step(
        job_id, values.get("description", ""), actor=http.actor(),
        type=StepType(values.get("type", StepType.UNKNOWN.value)),
        parent_id=parent.get("id") or None)
    node = _render_step(step)
    return http.respond(STEP.tag, node, status=201, location=node["href"])


def end_step(job_id: str, step_id: str) -> Response:
    node = http.read_action()
    http.engine().external_jobs.end_step(job_id, step_id, actor=http.actor(),
                                         succeeded=_succeeded(node))
    return http.respond_action()


def _succeeded(node: Node) -> bool:
    """``<succeeded>`` or, as some clients send, ``<status>finished|failed</status>``."""
    status = node.get("status")
    default = True
    if isinstance(status, str) and status:
        default = status == JobStatus.FINISHED.value
    return http.flag(node, "succeeded", default)


def _render_step(step: Step) -> Node:
    return STEP.render(step, href=http.href("jobs", step.job_id, "steps", step.id))


def _step_ref(job_id: str, step_id: str) -> Node:
    return {"id": step_id, "href": http.href("jobs", job_id, "steps", step_id)}
