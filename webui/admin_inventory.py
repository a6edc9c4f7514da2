"""Admin Portal: templates, disks, storage domains, networks, hosts, events, jobs, users."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.errors import VirtStickError
from webui import summaries
from webui.admin_vms import blueprint
from webui.session import actor, admin_required, engine


@blueprint.get("/templates")
@admin_required
def templates() -> str:
    store = engine().store
    counts: dict[str, int] = {}
    for vm in store.vms.all():
        counts[vm.template_id] = counts.get(vm.template_id, 0) + 1
    disks: dict[str, int] = {}
    for disk in store.disks.all():
        if disk.template_id:
            disks[disk.template_id] = disks.get(disk.template_id, 0) + disk.provisioned_size
    return render_template("admin/templates.html",
                           templates=sorted(store.templates.all(), key=lambda t: t.name.lower()),
                           vm_counts=counts, disk_sizes=disks)


@blueprint.post("/templates/<template_id>/delete")
@admin_required
def delete_template(template_id: str) -> Response:
    try:
        template = engine().store.templates.get(template_id)
        engine().templates.remove(template_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(f"Template {template.name} was removed.", "success")
    return redirect(url_for("admin.templates"))


@blueprint.get("/disks")
@admin_required
def disks() -> str:
    store = engine().store
    domains = {d.id: d.name for d in store.storage_domains.all()}
    vm_names = {v.id: v.name for v in store.vms.all()}
    template_names = {t.id: t.name for t in store.templates.all()}
    owners = {}
    for attachment in store.attachments.all():
        owners[attachment.disk_id] = vm_names.get(attachment.vm_id) or (
            "template " + template_names.get(attachment.vm_id, "?"))
    return render_template("admin/disks.html",
                           disks=sorted(store.disks.all(), key=lambda d: d.name.lower()),
                           domains=domains, owners=owners)


@blueprint.get("/storage")
@admin_required
def storage() -> str:
    return render_template("admin/storage.html", rows=summaries.domain_rows(engine()))


@blueprint.get("/networks")
@admin_required
def networks() -> str:
    store = engine().store
    return render_template("admin/networks.html", networks=store.networks.all(),
                           profiles=store.vnic_profiles.all(),
                           datacenters={d.id: d.name for d in store.datacenters.all()})


@blueprint.get("/hosts")
@admin_required
def hosts() -> str:
    store = engine().store
    running: dict[str, tuple[int, int]] = {}
    for vm in store.vms.all():
        if vm.host_id and vm.status.is_running:
            count, memory = running.get(vm.host_id, (0, 0))
            running[vm.host_id] = (count + 1, memory + vm.memory)
    return render_template("admin/hosts.html", hosts=store.hosts.all(), running=running,
                           clusters={c.id: c.name for c in store.clusters.all()},
                           can_maintain=_hosts_service() is not None)


@blueprint.post("/hosts/<host_id>/<action>")
@admin_required
def host_action(host_id: str, action: str) -> Response:
    service = _hosts_service()
    if service is None or action not in ("maintenance", "activate"):
        flash("Host maintenance is not available in this version of the engine.", "error")
        return redirect(url_for("admin.hosts"))
    try:
        getattr(service, action)(host_id, actor=actor())
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash("The host is going to maintenance." if action == "maintenance"
              else "The host is being activated.", "success")
    return redirect(url_for("admin.hosts"))


@blueprint.get("/events")
@admin_required
def events() -> str:
    severity = request.args.get("severity", "")
    found = engine().events.recent(limit=300)
    if severity:
        found = [e for e in found if e.severity.value == severity]
    vm_names = {v.id: v.name for v in engine().store.vms.all()}
    return render_template("admin/events.html", events=found, severity=severity,
                           vm_names=vm_names)


@blueprint.get("/jobs")
@admin_required
def jobs() -> str:
    return render_template("admin/jobs.html", jobs=summaries.recent_jobs(engine(), limit=200))


@blueprint.get("/users")
@admin_required
def users() -> str:
    directory = getattr(engine(), "users", None)
    listing: list[Any] = []
    if directory is not None and hasattr(directory, "list"):
        listing = list(directory.list(actor=actor()))
    return render_template("admin/users.html", users=listing,
                           available=directory is not None)


def _hosts_service() -> Any:
    """The engine's host service, where it offers maintenance (a later engine part)."""
    service = getattr(engine(), "host_service", None) or getattr(engine(), "hosts", None)
    return service if service is not None and hasattr(service, "maintenance") else None
