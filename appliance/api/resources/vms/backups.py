"""``/vms/{id}/backups`` and ``checkpoints``: incremental backup (oVirt 4.4's, over libvirt's
backup API) is not offered, so a VM has neither; the lists are empty as for a VM never backed
up."""

from __future__ import annotations

from appliance.api.listing import add_empty_vm_list
from appliance.api.routing import Routes
from appliance.api.schema import Field, Kind, Type

BACKUP = Type(tag="backup", plural="backups", description="A backup of a VM's disks",
              fields=(Field("phase"), Field("creation_date", Kind.DATE),
                      Field("vm", Kind.REF, ref="vms")))
CHECKPOINT = Type(tag="checkpoint", plural="checkpoints",
                  description="A point incremental backups start from",
                  fields=(Field("state"), Field("creation_date", Kind.DATE),
                          Field("vm", Kind.REF, ref="vms")))


def install(routes: Routes) -> None:
    add_empty_vm_list(routes, "backups", BACKUP, summary="A VM's backups",
                      why="backups are not offered")
    add_empty_vm_list(routes, "checkpoints", CHECKPOINT, summary="A VM's backup checkpoints",
                      why="backups are not offered")
