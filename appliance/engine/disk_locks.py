"""Disks held by a long operation: an image transfer or a copy locks its disk until it ends.
What would change a locked disk's chain (a snapshot, a preview, a merge), read it half-written
(a clone, a template, an export) or remove it waits until the disk is ok, as oVirt refuses."""

from __future__ import annotations

from collections.abc import Iterable

from appliance.engine.enums import DiskStatus
from appliance.engine.model import Disk
from appliance.engine.store.schema import Store
from appliance.errors import InvalidState


def require_unlocked(disks: Iterable[Disk], *, doing: str) -> None:
    """``doing``: what waits, in the user's words ("take a snapshot")."""
    for disk in disks:
        if disk.status is DiskStatus.LOCKED:
            raise InvalidState(f"Disk '{disk.name}' is locked (an image transfer or copy is "
                               f"running); {doing} when it is ok.")


def vm_disks(store: Store, vm_id: str) -> list[Disk]:
    """Every disk attached to the VM, active or not."""
    return [store.disks.get(a.disk_id) for a in store.attachments.where(vm_id=vm_id)]
