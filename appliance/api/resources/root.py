"""``GET /ovirt-engine/api``: what the service is (``product_info``, which Ansible reads),
its special objects, a summary of counts and the time; ``connection.test()`` fetches it."""

from __future__ import annotations

import contextlib
import time

from flask import Response

from appliance import __version__
from appliance.api import http
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import iso_time, ref
from appliance.engine.engine import Engine
from appliance.engine.enums import HostStatus, StorageDomainStatus, VmStatus
from appliance.engine.model import BLANK_TEMPLATE_ID
from appliance.errors import NotFound

COLLECTIONS = ("clusters", "datacenters", "disks", "events", "hosts", "jobs", "networks",
               "operatingsystems", "permissions", "roles", "storagedomains", "templates",
               "users", "vms", "vnicprofiles")
ROOT_TAG_ID = "00000000-0000-0000-0000-000000000000"


def install(routes: Routes) -> None:
    routes.add("", Operation.GET, tag="api", summary="The API's entry point")(get_api)


def get_api() -> Response:
    engine, actor = http.engine(), http.actor()
    vms = engine.vms.list(actor=actor)
    hosts = engine.hosts.list()
    domains = engine.storage_domains.list()
    users = engine.users.list_users(actor=actor)
    node: Node = {
        "link": [{"href": http.href(c), "rel": c} for c in COLLECTIONS],
        "product_info": {
            "name": "VirtStick",
            "vendor": "VirtStick",
            "instance_id": engine.appliance_id,
            "version": {"build": "0", "full_version": f"4.5.0-virtstick{__version__}",
                        "major": "4", "minor": "5", "revision": "0"},
        },
        "special_objects": _special_objects(engine),
        "summary": {
            "hosts": _counts(len([h for h in hosts if h.status is HostStatus.UP]), len(hosts)),
            "storage_domains": _counts(
                len([d for d in domains if d.status is StorageDomainStatus.ACTIVE]),
                len(domains)),
            "users": _counts(len(users), len(users)),
            "vms": _counts(len([v for v in vms if v.status is VmStatus.UP]), len(vms)),
        },
        "time": iso_time(time.time()),
        "authenticated_user": ref("users", actor.user_id),
        "effective_user": ref("users", actor.user_id),
    }
    return http.respond("api", node)


def _special_objects(engine: Engine) -> Node:
    """oVirt's, and (an addition clients ignore) the cluster the engine uses when a request
    names none, so the CLI picks it as the engine does."""
    found: Node = {"blank_template": ref("templates", BLANK_TEMPLATE_ID),
                   "root_tag": ref("tags", ROOT_TAG_ID)}
    with contextlib.suppress(NotFound):  # the root answers without it
        found["default_cluster"] = ref("clusters", engine.clusters.default().id)
    return found


def _counts(active: int, total: int) -> Node:
    return {"active": str(active), "total": str(total)}
