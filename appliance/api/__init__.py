"""oVirt's v4 REST API under ``/ovirt-engine``: SSO, the API root and one module per noun in
``resources/`` (``resources/vms/``: one per sub-collection of a VM), each listed in
``resource_modules``. ``create_blueprint()`` is registered by ``appliance.web``."""

from __future__ import annotations

from types import ModuleType

from flask import Blueprint, Response, jsonify

from appliance.api import auth, faults, openapi, sso
from appliance.api.routing import Routes

OPENAPI_ENDPOINT = "openapi"


def create_blueprint() -> Blueprint:
    outer = Blueprint("ovirt", __name__, url_prefix="/ovirt-engine")
    sso.install(outer)
    api = Blueprint("api", __name__, url_prefix="/api")
    api.before_request(auth.authenticate_request)
    faults.install(api)
    routes = Routes(api)
    modules = resource_modules()
    for module in modules:
        module.install(routes)
    types = openapi.collect_types(modules)

    def openapi_document() -> Response:
        return jsonify(openapi.document(routes.routes, types))

    api.add_url_rule("/openapi.json", endpoint=OPENAPI_ENDPOINT, view_func=openapi_document)
    outer.register_blueprint(api)
    return outer


def resource_modules() -> list[ModuleType]:
    """Every module that installs routes, in the order the OpenAPI document lists types.
    Imported here, not at the top: the modules import ``appliance.api``'s own parts."""
    from appliance.api.resources import (
        clusters,
        datacenters,
        disks,
        events,
        external_template_imports,
        externalvmimports,
        hosts,
        imagetransfers,
        isoimages,
        jobs,
        networks,
        operatingsystems,
        permissions,
        roles,
        root,
        schedulingpolicies,
        storagedomains,
        templates,
        users,
        vnicprofiles,
    )
    from appliance.api.resources.vms import (
        cdroms,
        clone,
        diskattachments,
        export,
        graphicsconsoles,
        lifecycle,
        migration,
        nics,
        snapshots,
        statistics,
    )
    from appliance.api.resources.vms import permissions as vm_permissions

    return [
        root,
        lifecycle, diskattachments, nics, cdroms, graphicsconsoles, snapshots, migration,
        vm_permissions, statistics, export, clone,
        disks, imagetransfers, templates, operatingsystems, externalvmimports,
        external_template_imports,
        datacenters, clusters, schedulingpolicies, hosts, storagedomains, isoimages,
        networks, vnicprofiles,
        users, roles, permissions, events, jobs,
    ]
