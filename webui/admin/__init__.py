"""The Admin Portal under /admin: one module per page, each its own blueprint, all nested in
the portal's ``admin`` blueprint (which checks CSRF and renders errors for every page).
Endpoints read ``admin.<page>.<view>``, e.g. ``admin.vms.show``; the dashboard, the front
page, is ``admin.dashboard``."""

from __future__ import annotations

from flask import Blueprint

from webui.admin import (
    audit,
    dashboard,
    disks,
    events,
    hosts,
    isos,
    jobs,
    monitoring,
    networks,
    reports,
    storage,
    templates,
    uploads,
    users,
    vms,
)
from webui.blueprint import portal_blueprint

PAGES: tuple[Blueprint, ...] = (
    vms.blueprint, templates.blueprint, hosts.blueprint,
    storage.blueprint, isos.blueprint, disks.blueprint, networks.blueprint, events.blueprint,
    monitoring.blueprint, reports.blueprint, audit.blueprint, jobs.blueprint, users.blueprint,
    uploads.blueprint,
)

blueprint = portal_blueprint("admin", __name__, url_prefix="/admin")
blueprint.add_url_rule("/", endpoint="dashboard", view_func=dashboard.index)
for page in PAGES:
    blueprint.register_blueprint(page)
