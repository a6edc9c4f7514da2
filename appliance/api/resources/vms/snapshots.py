"""``/vms/{id}/snapshots``: list, add, remove, and the VM actions ``previewsnapshot``,
``commitsnapshot``, ``undosnapshot`` and the snapshot's ``restore``.

As oVirt does, the list starts with the "Active VM" (the disks' current state), whose id is
the VM's; it cannot be removed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Response

from appliance.api import http, listing, ovirtnames
from appliance.api.representation import Node
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import SnapshotStatus, SnapshotType
from appliance.engine.model import Snapshot, Vm
from appliance.errors import InvalidInput, InvalidState

ACTIVE_DESCRIPTION = "Active VM"

SNAPSHOT = Type(
    tag="snapshot", plural="snapshots", accepted=ovirtnames.SNAPSHOT, links=("disks",),
    description="A point in time of a VM's disks",
    fields=(
        Field("description", get=lambda s: s.description, writable=True),
        Field("date", Kind.DATE, get=lambda s: s.date),
        Field("snapshot_status", get=lambda s: s.status.value, values=tuple(SnapshotStatus)),
        Field("snapshot_type", get=lambda s: s.type.value, values=tuple(SnapshotType)),
        Field("persist_memorystate", Kind.BOOLEAN, get=lambda s: s.persist_memorystate,
              writable=True),
        Field("vm", Kind.REF, get=lambda s: s.vm_id, ref="vms"),
    ),
)


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/snapshots"
    routes.add(base, Operation.LIST, tag="snapshot", summary="List a VM's snapshots")(
        list_snapshots)
    routes.add(base, Operation.ADD, tag="snapshot", summary="Take a snapshot")(add_snapshot)
    routes.add(f"{base}/<snapshot_id>", Operation.GET, tag="snapshot",
               summary="Get a snapshot")(get_snapshot)
    routes.add(f"{base}/<snapshot_id>", Operation.REMOVE, tag="snapshot",
               summary="Remove a snapshot (its layer is merged)")(remove_snapshot)
    routes.add(f"{base}/<snapshot_id>/disks", Operation.LIST, tag="disk",
               summary="A snapshot's disks, as they were when it was taken")(list_disks)
    routes.add(f"{base}/<snapshot_id>/restore", Operation.ACTION, tag="action",
               summary="Go back to a snapshot (the VM is down)")(restore_snapshot)
    routes.add("/vms/<vm_id>/previewsnapshot", Operation.ACTION, tag="action",
               summary="Preview a snapshot (the VM is down)")(preview_snapshot)
    routes.add("/vms/<vm_id>/commitsnapshot", Operation.ACTION, tag="action",
               summary="Keep the previewed snapshot")(commit_snapshot)
    routes.add("/vms/<vm_id>/undosnapshot", Operation.ACTION, tag="action",
               summary="Leave the preview")(undo_snapshot)


def render(snapshot: Snapshot) -> Node:
    return SNAPSHOT.render(snapshot, href=http.href("vms", snapshot.vm_id, "snapshots",
                                                    snapshot.id))


def list_snapshots(vm_id: str) -> Response:
    vm = _vm(vm_id)
    found = [_active(vm), *http.engine().snapshots.list(vm.id, actor=http.actor())]
    return listing.list_response(SNAPSHOT, found, render=render)


def get_snapshot(vm_id: str, snapshot_id: str) -> Response:
    vm = _vm(vm_id)
    if snapshot_id == vm.id:
        return http.respond(SNAPSHOT.tag, render(_active(vm)))
    snapshot = http.engine().snapshots.get(vm.id, snapshot_id, actor=http.actor())
    return http.respond(SNAPSHOT.tag, render(snapshot))


def add_snapshot(vm_id: str) -> Response:
    values = http.read(SNAPSHOT)
    description = values.get("description", "").strip()
    if not description:
        raise InvalidInput("A snapshot needs a <description>.")
    # As oVirt (CreateSnapshotForVmParameters): a running VM's memory is saved unless the
    # request says otherwise, so ovirt_snapshot without use_memory does the same here.
    snapshot = http.engine().snapshots.create(
        vm_id, description=description[:256],
        persist_memory=values.get("persist_memorystate", True), actor=http.actor())
    node = render(snapshot)
    return http.respond(SNAPSHOT.tag, node, status=201, location=node["href"])


def remove_snapshot(vm_id: str, snapshot_id: str) -> Response:
    vm = _vm(vm_id)
    if snapshot_id == vm.id:
        raise InvalidState("The Active VM snapshot is the VM's current state; it cannot be "
                           "removed.")
    http.engine().snapshots.remove(vm.id, snapshot_id, actor=http.actor())
    return Response(status=200)


def list_disks(vm_id: str, snapshot_id: str) -> Response:
    """Each disk of the snapshot, its ``image_id`` the volume that was its top then; the
    Active VM's are the disks as they are now."""
    engine, actor = http.engine(), http.actor()
    vm = _vm(vm_id)
    if snapshot_id == vm.id:
        found = [engine.disks.get(a.disk_id, actor=actor)
                 for a in engine.vms.list_disk_attachments(vm.id, actor=actor)]
    else:
        found = [replace(disk, volume_id=volume_id) for disk, volume_id in
                 engine.snapshots.disks(vm.id, snapshot_id, actor=actor)]
    base = http.href("vms", vm.id, "snapshots", snapshot_id, "disks")
    nodes = []
    for disk in found:
        node = disks.DISK.render(disk, href=f"{base}/{disk.id}")
        node["snapshot"] = {"href": http.href("vms", vm.id, "snapshots", snapshot_id),
                            "id": snapshot_id}
        nodes.append(node)
    return http.respond_list(disks.DISK, nodes)


def restore_snapshot(vm_id: str, snapshot_id: str) -> Response:
    http.read_action()
    http.engine().snapshots.restore(vm_id, snapshot_id, actor=http.actor())
    return http.respond_action()


def preview_snapshot(vm_id: str) -> Response:
    node = http.read_action()
    snapshot: Any = node.get("snapshot")
    if not isinstance(snapshot, dict) or not snapshot.get("id"):
        raise InvalidInput("previewsnapshot needs <snapshot id=\"...\"/>.")
    http.engine().snapshots.preview(
        vm_id, snapshot["id"], actor=http.actor(),
        restore_memory=str(node.get("restore_memory", "false")).lower() == "true")
    return http.respond_action()


def commit_snapshot(vm_id: str) -> Response:
    http.read_action()
    http.engine().snapshots.commit(vm_id, actor=http.actor())
    return http.respond_action()


def undo_snapshot(vm_id: str) -> Response:
    http.read_action()
    http.engine().snapshots.undo(vm_id, actor=http.actor())
    return http.respond_action()


def _vm(vm_id: str) -> Vm:
    return http.engine().vms.get(vm_id, actor=http.actor())


def _active(vm: Vm) -> Snapshot:
    return Snapshot(id=vm.id, vm_id=vm.id, description=ACTIVE_DESCRIPTION,
                    type=SnapshotType.ACTIVE, date=vm.start_time or vm.created)
