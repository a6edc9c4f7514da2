"""Admin Portal, many hosts: start and stop lab hosts, switch hosts on and off (power
management), the cluster's scheduling policy and live migration of a VM."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from appliance.engine.model import MiB
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput, VirtStickError
from webui.admin_vms import blueprint
from webui.session import actor, admin_required, engine


@blueprint.post("/labhosts")
@admin_required
def start_lab_host() -> Response:
    name = request.form.get("name", "").strip()
    try:
        memory = int(request.form.get("memory_mib") or 0) * MiB
        host = engine().hosts.start_lab_host(name, actor=actor(), memory=memory or None)
        flash(f"Lab host {host.name} is up.", "success")
    except ValueError:
        flash("The memory must be a whole number of MiB.", "error")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("admin.hosts"))


@blueprint.post("/hosts/<host_id>/power/<verb>")
@admin_required
def host_power(host_id: str, verb: str) -> Response:
    try:
        if verb == "start":
            host = engine().hosts.power_on(host_id, actor=actor())
            flash(f"Host {host.name} was switched on.", "success")
        elif verb == "stop":
            host = engine().ha.fence(host_id, actor=actor())
            flash(f"Host {host.name} was switched off; its highly available VMs restart "
                  "elsewhere.", "success")
        else:
            raise InvalidInput(f"'{verb}' is not start or stop.")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("admin.hosts"))


@blueprint.post("/clusters/<cluster_id>/policy")
@admin_required
def cluster_policy(cluster_id: str) -> Response:
    properties = {}
    for line in request.form.get("properties", "").replace(",", "\n").splitlines():
        key, _, value = line.partition("=")
        if key.strip():
            properties[key.strip()] = value.strip()
    try:
        policy = policies.parse_name(request.form.get("policy", ""))
        cluster = engine().clusters.set_scheduling_policy(cluster_id, policy, actor=actor(),
                                                          properties=properties)
        flash(f"Cluster {cluster.name} now schedules by {cluster.scheduling_policy}.",
              "success")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("admin.hosts"))


@blueprint.post("/vms/<vm_id>/migrate")
@admin_required
def migrate_vm(vm_id: str) -> Response:
    target = request.form.get("host_id") or None
    try:
        engine().migrations.migrate(vm_id, actor=actor(), host_id=target)
        flash("The migration started; the VM keeps running meanwhile.", "success")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(request.referrer or url_for("admin.hosts"))
