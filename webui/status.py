"""Small JSON documents the pages poll for live status: VMs and jobs, filtered by user."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from appliance.engine.enums import VmStatus
from appliance.engine.model import Job
from webui import summaries
from webui.blueprint import portal_blueprint
from webui.session import actor, engine, login_required

blueprint = portal_blueprint("status", __name__, url_prefix="/status")


@blueprint.get("/vms.json")
@login_required
def vms() -> Response:
    who = actor()
    wanted = set(filter(None, request.args.get("ids", "").split(",")))
    hosts = {h.id: h.name for h in engine().store.hosts.all()}
    if who.superuser:
        # Polled every 2 s by every open page: the store's indexed columns are enough, so
        # no VM is decoded whole.
        rows = engine().store.db.query("SELECT id, name, status, host_id FROM vms")
        found = [(r["id"], r["name"], VmStatus(r["status"]), r["host_id"]) for r in rows]
    else:
        found = [(v.id, v.name, v.status, v.host_id) for v in engine().vms.list(actor=who)]
    if wanted:
        found = [f for f in found if f[0] in wanted]
    jobs = summaries.recent_jobs(engine(), limit=8,
                                 owner=None if who.superuser else who.name)
    return jsonify(vms=[_vm(*f, hosts=hosts) for f in found], jobs=[_job(j) for j in jobs])


@blueprint.get("/jobs/<job_id>.json")
@login_required
def job(job_id: str) -> Response:
    found = engine().store.jobs.get(job_id)
    who = actor()
    if not who.superuser and found.owner != who.name:
        return jsonify(error="not-found"), 404  # type: ignore[return-value]
    return jsonify(_job(found))


def _vm(vm_id: str, name: str, status: VmStatus, host_id: str | None, *,
        hosts: dict[str, str]) -> dict[str, Any]:
    return {"id": vm_id, "name": name, "status": status.value, "running": status.is_running,
            "host": hosts.get(host_id or "", "")}


def _job(job: Job) -> dict[str, Any]:
    return {"id": job.id, "description": job.description, "status": job.status.value,
            "progress": job.progress, "error": job.error, "start_time": job.start_time,
            "end_time": job.end_time}
