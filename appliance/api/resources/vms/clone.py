"""``/vms/{id}/clone``: a new VM with copies of a down VM's disks, made by a job; and
``POST /vms`` naming a snapshot (``<snapshots><snapshot id/></snapshots>``), which makes the
new VM from that snapshot's disks as oVirt does."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.resources.vms import fields
from appliance.api.resources.vms.fields import VM
from appliance.api.routing import Operation, Routes
from appliance.errors import InvalidInput


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/clone", Operation.ACTION, tag="action",
               summary="Clone a VM (down): copies of its disks")(clone_vm)


def clone_vm(vm_id: str) -> Response:
    node = http.read_action()
    target: Any = node.get("vm")
    if not isinstance(target, dict) or not target.get("name"):
        raise InvalidInput("clone needs the new VM's name: <vm><name>...</name></vm>.")
    clone, job = http.engine().vm_clones.clone(vm_id, name=str(target["name"]),
                                               actor=http.actor(),
                                               correlation_id=http.correlation_id())
    return http.respond_action(job, vm=VM.render(clone))


def snapshot_named(node: Node) -> str | None:
    """The snapshot id a new VM's body names, if it names one."""
    snapshots: Any = node.get("snapshots")
    if not snapshots:
        return None
    items = snapshots.get("snapshot") if isinstance(snapshots, dict) else None
    items = items[0] if isinstance(items, list) and items else items
    if not isinstance(items, dict) or not items.get("id"):
        raise InvalidInput("<snapshots> names the snapshot to make the VM from: "
                           "<snapshot id=\"...\"/>.")
    return str(items["id"])


def add_from_snapshot(snapshot_id: str, values: dict[str, Any]) -> Response:
    """The new VM is image_locked until its disks are copied, then down."""
    engine = http.engine()
    cluster = values.get("cluster")
    clone, _job = engine.vm_clones.clone_from_snapshot(
        snapshot_id, name=values["name"], actor=http.actor(),
        cluster_id=listing.resolve(engine.clusters, cluster, noun="cluster").id
        if cluster else None, correlation_id=http.correlation_id())
    return http.respond(VM.tag, fields.render(clone), status=201,
                        location=http.href("vms", clone.id))
