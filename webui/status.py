"""Small JSON documents the pages poll for live status: VMs and jobs, filtered by user."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from appliance.engine.model import Job, Vm
from webui import summaries
from webui.blueprint import portal_blueprint
from webui.session import actor, engine, login_required

blueprint = portal_blueprint("status", __name__, url_prefix="/status")


@blueprint.get("/vms.json")
@login_required
def vms() -> Response:
    who = actor()
    wanted = set(filter(None, request.args.get("ids", "").split(",")))
    found = engine().vms.list(actor=who)
    if wanted:
        found = [v for v in found if v.id in wanted]
    hosts = {h.id: h.name for h in engine().store.hosts.all()}
    jobs = summaries.recent_jobs(engine(), limit=8,
                                 owner=None if who.superuser else who.name)
    return jsonify(vms=[_vm(v, hosts) for v in found], jobs=[_job(j) for j in jobs])


@blueprint.get("/jobs/<job_id>.json")
@login_required
def job(job_id: str) -> Response:
    found = engine().store.jobs.get(job_id)
    who = actor()
    if not who.superuser and found.owner != who.name:
        return jsonify(error="not-found"), 404  # type: ignore[return-value]
    return jsonify(_job(found))


def _vm(vm: Vm, hosts: dict[str, str]) -> dict[str, Any]:
    return {"id": vm.id, "name": vm.name, "status": vm.status.value,
            "running": vm.status.is_running, "host": hosts.get(vm.host_id or "", "")}


def _job(job: Job) -> dict[str, Any]:
    return {"id": job.id, "description": job.description, "status": job.status.value,
            "progress": job.progress, "error": job.error, "start_time": job.start_time,
            "end_time": job.end_time}
