"""Small JSON documents for the pages' live status: VMs and jobs, filtered by user (pages
with a live stream read them once, pages without one poll them)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from appliance.engine.inventory import VmState
from appliance.engine.model import Job
from webui.blueprint import portal_blueprint
from webui.session import actor, engine, login_required

blueprint = portal_blueprint("status", __name__, url_prefix="/status")


@blueprint.get("/vms.json")
@login_required
def vms() -> Response:
    who = actor()
    wanted = frozenset(filter(None, request.args.get("ids", "").split(",")))
    states = engine().inventory.list_vm_states(actor=who, ids=wanted)
    jobs = engine().inventory.list_jobs(actor=who, limit=8)
    return jsonify(vms=[_vm(s) for s in states], jobs=[_job(j) for j in jobs])


@blueprint.get("/jobs.json")
@login_required
def jobs() -> Response:
    """The latest jobs alone: what a live page's tasks panel starts from."""
    found = engine().inventory.list_jobs(actor=actor(), limit=8)
    return jsonify(jobs=[_job(j) for j in found])


@blueprint.get("/jobs/<job_id>.json")
@login_required
def job(job_id: str) -> Response:
    return jsonify(_job(engine().inventory.get_job(job_id, actor=actor())))


def _vm(state: VmState) -> dict[str, Any]:
    return {"id": state.id, "name": state.name, "status": state.status.value,
            "running": state.status.is_running, "host": state.host_name}


def _job(job: Job) -> dict[str, Any]:
    return {"id": job.id, "description": job.description, "status": job.status.value,
            "progress": job.progress, "error": job.error, "start_time": job.start_time,
            "end_time": job.end_time}
