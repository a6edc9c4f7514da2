"""oVirt's v4 REST API under ``/ovirt-engine``: SSO, the API root and one module per noun in
``resources/``. ``create_blueprint()`` is registered by ``appliance.web``."""

from __future__ import annotations

from flask import Blueprint

from appliance.api import auth, faults, sso
from appliance.api.routing import Routes


def create_blueprint() -> Blueprint:
    outer = Blueprint("ovirt", __name__, url_prefix="/ovirt-engine")
    sso.install(outer)
    api = Blueprint("api", __name__, url_prefix="/api")
    api.before_request(auth.authenticate_request)
    faults.install(api)
    routes = Routes(api)
    install_resources(routes)
    outer.register_blueprint(api)
    return outer


def install_resources(routes: Routes) -> None:
    from appliance.api.resources import (
        access,
        activity,
        catalog,
        disks,
        infra,
        root,
        snapshots,
        vm_devices,
        vms,
    )

    for module in (root, vms, vm_devices, disks, access, infra, catalog, activity,
                   snapshots):
        module.install(routes)
