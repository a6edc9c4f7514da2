"""oVirt's v4 REST API under ``/ovirt-engine``: SSO, the API root and one module per noun in
``resources/``. ``create_blueprint()`` is registered by ``appliance.web``."""

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
    from appliance.api.resources import (
        access,
        activity,
        catalog,
        disks,
        external_template_imports,
        hosts,
        imagetransfers,
        imaging,
        infra,
        root,
        snapshots,
        statistics,
        vm_devices,
        vms,
    )

    return [root, vms, vm_devices, disks, access, infra, catalog, activity, snapshots,
            hosts, statistics, imaging, imagetransfers, external_template_imports]
