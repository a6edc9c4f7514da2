"""Admin Portal: templates, disks, storage domains, networks, hosts, events, jobs, users."""

from __future__ import annotations

import time
from typing import BinaryIO, cast

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.engine.enums import EventSeverity
from appliance.engine.monitoring.event_search import EventFilter
from appliance.engine.monitoring.history import DAY, HOUR
from appliance.engine.users import ObjectType, RoleName
from appliance.errors import VirtStickError
from webui.admin_vms import blueprint
from webui.outcome import act
from webui.session import actor, admin_required, engine


@blueprint.get("/templates")
@admin_required
def templates() -> str:
    return render_template("admin/templates.html",
                           rows=engine().inventory.list_template_rows(actor=actor()))


@blueprint.post("/templates/<template_id>/delete")
@admin_required
def delete_template(template_id: str) -> Response:
    name = next((t.name for t in engine().templates.list() if t.id == template_id), "")
    try:
        engine().templates.remove(template_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"Template {name} was removed.", "success")
    return redirect(url_for("admin.templates"))


@blueprint.get("/disks")
@admin_required
def disks() -> str:
    return render_template("admin/disks.html",
                           rows=engine().inventory.list_disk_rows(actor=actor()))


@blueprint.get("/storage")
@admin_required
def storage() -> str:
    return render_template("admin/storage.html",
                           rows=engine().inventory.list_domain_rows(actor=actor()))


@blueprint.get("/networks")
@admin_required
def networks() -> str:
    return render_template("admin/networks.html",
                           rows=engine().inventory.list_network_rows(actor=actor()))


@blueprint.get("/hosts")
@admin_required
def hosts() -> str:
    return render_template("admin/hosts.html",
                           rows=engine().inventory.list_host_loads(actor=actor()),
                           clusters=engine().clusters.list())


@blueprint.post("/hosts/<host_id>/<action>")
@admin_required
def host_action(host_id: str, action: str) -> Response:
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
    return redirect(url_for("admin.hosts"))


@blueprint.get("/events")
@admin_required
def events() -> str:
    severity = request.args.get("severity", "")
    period = request.args.get("period", "")
    spans = {"hour": HOUR, "day": DAY, "month": 30 * DAY}
    try:
        query = EventFilter(
            min_severity=EventSeverity(severity) if severity else EventSeverity.NORMAL,
            vm_id=request.args.get("vm") or None, host_id=request.args.get("host") or None,
            text=request.args.get("q", "")[:200],
            since=time.time() - spans[period] if period else None, limit=300)
    except (ValueError, KeyError):
        abort(400)
    inventory = engine().inventory
    return render_template("admin/events.html",
                           events=inventory.search_events(query, actor=actor()),
                           severity=severity, vm=query.vm_id or "", host=query.host_id or "",
                           text=query.text, period=period,
                           vm_names=inventory.list_vm_names(actor=actor()),
                           host_names=inventory.list_host_names(actor=actor()))


@blueprint.get("/jobs")
@admin_required
def jobs() -> str:
    return render_template("admin/jobs.html",
                           jobs=engine().inventory.list_jobs(actor=actor(), limit=200))


@blueprint.get("/users")
@admin_required
def users() -> str:
    directory = engine().users
    roles = {r.id: r.name.value for r in directory.roles()}
    vm_names = engine().inventory.list_vm_names(actor=actor())
    rows = []
    for user in sorted(directory.list_users(actor=actor()), key=lambda u: u.name):
        grants = [(p, roles.get(p.role_id, "?"),
                   "System" if p.object_type is ObjectType.SYSTEM
                   else f"VM {vm_names.get(p.object_id, p.object_id)}")
                  for p in directory.permissions(actor=actor(), user_id=user.id)]
        rows.append((user, grants))
    return render_template("admin/users.html", rows=rows, roles=directory.roles(),
                           vms=sorted(vm_names.items(), key=lambda kv: kv[1].lower()))


@blueprint.post("/users")
@admin_required
def create_user() -> Response:
    form = request.form
    try:
        role = RoleName(form.get("role", RoleName.USER_ROLE.value))
        user = engine().users.create_user(form.get("name", "").strip(), form.get("password", ""),
                                          actor=actor(), email=form.get("email", "").strip(),
                                          role=role)
    except ValueError:
        flash("Choose one of the roles offered.", "error")
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"User {user.user_name} was added.", "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/users/<user_id>/permissions")
@admin_required
def grant(user_id: str) -> Response:
    """A UserRole on one VM: the user may then run it and open its console."""
    directory = engine().users
    try:
        directory.grant(user_id=user_id, role_id=directory.role_named("UserRole").id,
                        object_type=ObjectType.VM, object_id=request.form.get("vm_id", ""),
                        actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash("The permission was given.", "success")
    return redirect(url_for("admin.users"))


@blueprint.post("/permissions/<permission_id>/delete")
@admin_required
def revoke(permission_id: str) -> Response:
    return act(lambda: engine().users.remove_permission(permission_id, actor=actor()),
               done="The permission was removed.", back="admin.users")


@blueprint.post("/users/<user_id>/delete")
@admin_required
def delete_user(user_id: str) -> Response:
    return act(lambda: engine().users.remove_user(user_id, actor=actor()),
               done="The user was removed.", back="admin.users")


@blueprint.get("/isos")
@admin_required
def isos() -> str:
    inventory = engine().inventory
    return render_template("admin/isos.html", rows=inventory.list_iso_rows(actor=actor()),
                           domains=inventory.list_storage_domains(actor=actor()),
                           limit=engine().config.storage.iso_max_size)


@blueprint.put("/isos/<name>")
@admin_required
def upload_iso(name: str) -> Response:
    """The file is the request body (the page sends it with its upload progress), streamed
    into the storage domain; the form's size limit does not apply, the ISO limit does."""
    request.max_content_length = engine().config.storage.iso_max_size
    domain_id = request.args.get("storage_domain_id") or engine().storage_domains.default().id
    disk = engine().isos.upload(cast(BinaryIO, request.stream), name=name,
                                storage_domain_id=domain_id, actor=actor(),
                                size=request.content_length)
    return jsonify(id=disk.id, name=disk.name, size=disk.provisioned_size)


@blueprint.post("/isos/<disk_id>/delete")
@admin_required
def delete_iso(disk_id: str) -> Response:
    return act(lambda: engine().isos.remove(disk_id, actor=actor()),
               done="The ISO image was removed.", back="admin.isos")
