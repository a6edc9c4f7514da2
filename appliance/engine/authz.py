"""Who is acting, and what they may do: checked by every engine service, not only the API."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import Vm
from appliance.errors import NotVisible, PermissionDenied


@dataclass(frozen=True)
class Actor:
    user_id: str
    name: str
    superuser: bool = False
    address: str = ""  # where the request came from, for the audit trail
    granted: frozenset[str] = frozenset()  # ids of objects a permission gives this user


SYSTEM = Actor(user_id="system", name="system", superuser=True)


def require_superuser(actor: Actor, what: str) -> None:
    if not actor.superuser:
        raise PermissionDenied(f"{actor.name} may not {what}: that needs the SuperUser role.")


def can_use_vm(actor: Actor, vm: Vm) -> bool:
    return actor.superuser or vm.owner_id == actor.user_id or vm.id in actor.granted


def require_vm(actor: Actor, vm: Vm, what: str) -> None:
    """A VM the actor may not use is one they may not see either: the refusal is a 404 that
    names neither the VM nor ``what`` was tried on it (that is for the code's reader)."""
    if not can_use_vm(actor, vm):
        raise NotVisible(f"There is no VM with id '{vm.id}'.")
