"""``/vms/{id}/migrate`` (live, to a named host or the scheduler's choice) and
``/vms/{id}/cancelmigration``."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/migrate", Operation.ACTION, tag="action",
               summary="Live-migrate a VM to another host")(migrate_vm)
    routes.add("/vms/<vm_id>/cancelmigration", Operation.ACTION, tag="action",
               summary="Cancel a VM's migration")(cancel_migration)


def migrate_vm(vm_id: str) -> Response:
    node = http.read_action()
    engine = http.engine()
    target = node.get("host")
    host_id = None
    if isinstance(target, dict) and target:
        host_id = listing.resolve(engine.hosts, target, noun="host").id
    job = engine.migrations.migrate(vm_id, actor=http.actor(), host_id=host_id,
                                    correlation_id=http.correlation_id())
    return http.respond_action(job)


def cancel_migration(vm_id: str) -> Response:
    http.read_action()
    http.engine().migrations.cancel(vm_id, actor=http.actor())
    return http.respond_action()
