"""``/vms/{id}/backups`` and ``/vms/{id}/checkpoints``: oVirt 4.4's incremental backup, as
its SDK's backup_vm and checkpoints examples drive it.

``POST backups`` with the disks (and ``from_checkpoint_id`` for an incremental one) starts a
backup; clients poll its ``phase`` until ready, download each disk through an image transfer
that names the backup, then ``finalize`` and poll until succeeded. A backup's ``disks`` say
how each is served (``backup_mode``: full or incremental); ``to_checkpoint_id`` is the
checkpoint the backup made, where the next one can start.
"""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.backups.model import BackupPhase, CheckpointState, VmBackup, VmCheckpoint
from appliance.engine.backups.service import BackupRequest

BACKUP = Type(
    tag="backup", plural="backups", links=("disks",), description="A backup of a VM's disks",
    fields=(
        Field("description", get=lambda b: b.description or None, writable=True),
        Field("phase", get=lambda b: b.phase.value, values=tuple(BackupPhase)),
        Field("from_checkpoint_id", get=lambda b: b.from_checkpoint_id or None,
              writable=True),
        Field("to_checkpoint_id", get=lambda b: b.to_checkpoint_id or None),
        Field("creation_date", Kind.DATE, get=lambda b: b.created),
        Field("modification_date", Kind.DATE, get=lambda b: b.modified),
        Field("disks", Kind.REFS, writable=True, ref="disks", item="disk"),
        Field("vm", Kind.REF, get=lambda b: b.vm_id, ref="vms"),
        Field("host", Kind.REF, get=lambda b: b.host_id or None, ref="hosts"),
    ),
)
CHECKPOINT = Type(
    tag="checkpoint", plural="checkpoints", links=("disks",),
    description="A point incremental backups start from",
    fields=(
        Field("description", get=lambda c: c.description or None),
        Field("parent_id", get=lambda c: c.parent_id or None),
        Field("state", get=lambda c: c.state.value, values=tuple(CheckpointState)),
        Field("creation_date", Kind.DATE, get=lambda c: c.created),
        Field("vm", Kind.REF, get=lambda c: c.vm_id, ref="vms"),
    ),
)


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/backups"
    routes.add(base, Operation.LIST, tag="backup", summary="A VM's backups")(list_backups)
    routes.add(base, Operation.ADD, tag="backup",
               summary="Start a backup of a running VM's disks")(add_backup)
    routes.add(f"{base}/<backup_id>", Operation.GET, tag="backup",
               summary="Get a backup (its phase)")(get_backup)
    routes.add(f"{base}/<backup_id>/finalize", Operation.ACTION, tag="action",
               summary="End a backup (its disks unlock)")(finalize_backup)
    routes.add(f"{base}/<backup_id>/disks", Operation.LIST, tag="disk",
               summary="A backup's disks, each with its backup mode")(list_backup_disks)
    checkpoints = "/vms/<vm_id>/checkpoints"
    routes.add(checkpoints, Operation.LIST, tag="checkpoint",
               summary="A VM's backup checkpoints")(list_checkpoints)
    routes.add(f"{checkpoints}/<checkpoint_id>", Operation.GET, tag="checkpoint",
               summary="Get a checkpoint")(get_checkpoint)
    routes.add(f"{checkpoints}/<checkpoint_id>", Operation.REMOVE, tag="checkpoint",
               summary="Remove a checkpoint (its bitmaps go from the disks)")(
                   remove_checkpoint)
    routes.add(f"{checkpoints}/<checkpoint_id>/disks", Operation.LIST, tag="disk",
               summary="The disks a checkpoint covers")(list_checkpoint_disks)


def list_backups(vm_id: str) -> Response:
    found = http.engine().backups.list(vm_id, actor=http.actor())
    return listing.list_response(BACKUP, found, render=_render)


def get_backup(vm_id: str, backup_id: str) -> Response:
    return http.respond(BACKUP.tag, _render(
        http.engine().backups.get(vm_id, backup_id, actor=http.actor())))


def add_backup(vm_id: str) -> Response:
    node = http.read_node(BACKUP.tag)
    values = BACKUP.read(node)
    request = BackupRequest(
        disk_ids=tuple(d["id"] for d in values.get("disks", ()) if d.get("id")),
        id=str(node.get("id") or "") if isinstance(node.get("id"), str) else "",
        from_checkpoint_id=values.get("from_checkpoint_id", ""),
        description=values.get("description", ""))
    backup = http.engine().backups.start(vm_id, request, actor=http.actor(),
                                         correlation_id=http.correlation_id())
    rendered = _render(backup)
    return http.respond(BACKUP.tag, rendered, status=201, location=rendered["href"])


def finalize_backup(vm_id: str, backup_id: str) -> Response:
    http.read_action()
    http.engine().backups.finalize(vm_id, backup_id, actor=http.actor())
    return http.respond_action()


def list_backup_disks(vm_id: str, backup_id: str) -> Response:
    found = http.engine().backups.disks(vm_id, backup_id, actor=http.actor())
    base = http.href("vms", vm_id, "backups", backup_id, "disks")
    nodes = []
    for disk, mode in found:
        node = disks.DISK.render(disk, href=f"{base}/{disk.id}")
        node["backup_mode"] = mode.value
        nodes.append(node)
    return http.respond_list(disks.DISK, nodes)


def list_checkpoints(vm_id: str) -> Response:
    found = http.engine().checkpoints.list(vm_id, actor=http.actor())
    return listing.list_response(CHECKPOINT, found, render=_render_checkpoint)


def get_checkpoint(vm_id: str, checkpoint_id: str) -> Response:
    return http.respond(CHECKPOINT.tag, _render_checkpoint(
        http.engine().checkpoints.get(vm_id, checkpoint_id, actor=http.actor())))


def remove_checkpoint(vm_id: str, checkpoint_id: str) -> Response:
    http.engine().checkpoints.remove(vm_id, checkpoint_id, actor=http.actor())
    return Response(status=200)


def list_checkpoint_disks(vm_id: str, checkpoint_id: str) -> Response:
    engine, actor = http.engine(), http.actor()
    checkpoint = engine.checkpoints.get(vm_id, checkpoint_id, actor=actor)
    found = [d for d in engine.disks.list(actor=actor) if d.id in checkpoint.disk_ids]
    base = http.href("vms", vm_id, "checkpoints", checkpoint_id, "disks")
    return http.respond_list(disks.DISK, [disks.DISK.render(d, href=f"{base}/{d.id}")
                                          for d in found])


def _render(backup: VmBackup) -> Node:
    return BACKUP.render(backup, href=http.href("vms", backup.vm_id, "backups", backup.id))


def _render_checkpoint(checkpoint: VmCheckpoint) -> Node:
    return CHECKPOINT.render(checkpoint, href=http.href("vms", checkpoint.vm_id,
                                                        "checkpoints", checkpoint.id))
