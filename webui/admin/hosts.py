"""Admin Portal, hosts: their load, maintenance and activation, lab hosts on this machine,
switching hosts on and off (power management) and each cluster's scheduling policy."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from appliance.engine.model import MiB
from appliance.engine.scheduling import policies
from appliance.errors import InvalidInput, VirtStickError
from webui.session import actor, admin_required, engine
from webui.vm_forms import Refusal
from webui.words import words

blueprint = Blueprint("hosts", __name__)

LAB_HOST = "lab-host"
POLICY = "policy"  # and the cluster's id: each cluster has its form


@blueprint.get("/hosts")
@admin_required
def index() -> str:
    return _page(None)


def _page(refusal: Refusal | None) -> str:
    """The hosts, the lab host form and each cluster's policy; ``refusal`` puts a refused
    form's message beside it with what was typed."""
    return render_template("admin/hosts.html",
                           rows=engine().inventory.list_host_loads(actor=actor()),
                           clusters=engine().clusters.list(),
                           tree=engine().inventory.get_resource_tree(actor=actor()),
                           refusal=refusal)


@blueprint.post("/hosts/<host_id>/<action>")
@admin_required
def action(host_id: str, action: str) -> Response:
    service = engine().host_maintenance
    try:
        if action == "maintenance":
            service.deactivate(host_id, actor=actor())
            flash("The host is going to maintenance: its VMs move or shut down.", "success")
        elif action == "activate":
            host = service.activate(host_id, actor=actor())
            flash(f"Host {host.name} was activated.", "success")
        else:
            abort(404)
    except VirtStickError as exc:
        flash(exc.detail, "error")
    return redirect(url_for("admin.hosts.index"))


@blueprint.post("/labhosts")
@admin_required
def start_lab_host() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    try:
        try:
            memory = int(request.form.get("memory_mib") or 0) * MiB
        except ValueError:
            raise InvalidInput("The memory must be a whole number of MiB.") from None
        host = engine().hosts.start_lab_host(name, actor=actor(), memory=memory or None)
    except VirtStickError as exc:
        return _page(Refusal(LAB_HOST, exc.detail, request.form)), exc.status
    flash(f"Lab host {host.name} is up.", "success")
    return redirect(url_for("admin.hosts.index"))


@blueprint.post("/hosts/<host_id>/power/<verb>")
@admin_required
def power(host_id: str, verb: str) -> Response:
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
    return redirect(url_for("admin.hosts.index"))


@blueprint.post("/clusters/<cluster_id>/policy")
@admin_required
def cluster_policy(cluster_id: str) -> ResponseReturnValue:
    properties = {}
    for line in request.form.get("properties", "").replace(",", "\n").splitlines():
        key, _, value = line.partition("=")
        if key.strip():
            properties[key.strip()] = value.strip()
    try:
        policy = policies.parse_name(request.form.get("policy", ""))
        cluster = engine().clusters.set_scheduling_policy(cluster_id, policy, actor=actor(),
                                                          properties=properties)
    except VirtStickError as exc:
        return _page(Refusal(f"{POLICY}-{cluster_id}", exc.detail, request.form)), exc.status
    flash(f"Cluster {cluster.name} now schedules by {words(cluster.scheduling_policy)}.",
          "success")
    return redirect(url_for("admin.hosts.index"))
