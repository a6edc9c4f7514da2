"""Who is acting, and what they may do: checked by every engine service, not only the API."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import Vm
from appliance.errors import NotVisible, PermissionDenied

SYSTEM_OBJECT_ID = "aaa00000-0000-0000-0000-123456789aaa"  # oVirt's id for "the system"


@dataclass(frozen=True)
class Actor:
    user_id: str
    name: str
    superuser: bool = False
    address: str = ""  # where the request came from, for the audit trail
    granted: frozenset[str] = frozenset()  # ids of the VMs a permission lets this user use
    managed: frozenset[str] = frozenset()  # ... and edit, remove and share (UserVmManager)
    # (object id, permit) for each permit a role gives this user (or a group of theirs) on
    # an object; the system's id stands for every object.
    permits: frozenset[tuple[str, str]] = frozenset()

    def may(self, permit: str, *object_ids: str) -> bool:
        """Whether a role on one of ``object_ids``, or on the system, gives ``permit``."""
        return self.superuser or any((object_id, permit) in self.permits
                                     for object_id in (*object_ids, SYSTEM_OBJECT_ID))


SYSTEM = Actor(user_id="system", name="system", superuser=True)
# The machine's own administrator at its console (``virtstick user password``): what
# ovirt-aaa-jdbc-tool is to oVirt's engine machine.
CONSOLE = Actor(user_id="console", name="root@console", superuser=True)


def require_superuser(actor: Actor, what: str) -> None:
    if not actor.superuser:
        raise PermissionDenied(f"{actor.name} may not {what}: that needs the SuperUser role.")


def require_permit(actor: Actor, permit: str, what: str, *object_ids: str) -> None:
    if not actor.may(permit, *object_ids):
        raise PermissionDenied(f"{actor.name} may not {what}: that needs a role with the "
                               f"{permit} permit.")


def can_manage_vm(actor: Actor, vm: Vm) -> bool:
    """Edit, remove, share: the VM's owner, a SuperUser, or a UserVmManager of it."""
    return actor.superuser or vm.owner_id == actor.user_id or vm.id in actor.managed


def can_use_vm(actor: Actor, vm: Vm) -> bool:
    return actor.superuser or vm.owner_id == actor.user_id or vm.id in actor.granted


def require_vm(actor: Actor, vm: Vm, what: str) -> None:
    """A VM the actor may not use is one they may not see either: the refusal is a 404 that
    names neither the VM nor ``what`` was tried on it (that is for the code's reader)."""
    if not can_use_vm(actor, vm):
        raise NotVisible(f"There is no VM with id '{vm.id}'.")


def require_manage_vm(actor: Actor, vm: Vm, what: str) -> None:
    """A VM the actor may use but not manage (UserRole on it) is refused with a 403."""
    require_vm(actor, vm, what)
    if not can_manage_vm(actor, vm):
        raise PermissionDenied(f"{actor.name} may not {what} VM '{vm.name}': that needs its "
                               "owner, or a role with the delete_vm permit on it "
                               "(UserVmManager).")
