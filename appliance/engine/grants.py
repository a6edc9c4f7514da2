"""Permissions: a role given to a user, or to a group, on an object (the system, a VM, a
template, a network, a pool, ...), and what they add up to for one user (``Rights``).

The users service (users.py) is the face of this module: it checks who may grant, records
events and builds each request's actor from ``rights_of``. A permission on an object that
has since been removed gives nothing and is no longer listed.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.engine.authz import SYSTEM_OBJECT_ID
from appliance.engine.context import EngineContext
from appliance.engine.ids import new_id
from appliance.engine.permits import USE_VM, Permit
from appliance.engine.roles import Role, Roles
from appliance.engine.store.tables import Table
from appliance.errors import InvalidInput, NotFound


class ObjectType(StrEnum):
    """What a permission is on, with oVirt's element names (``<vm_pool id=…/>``)."""

    SYSTEM = "system"
    VM = "vm"
    TEMPLATE = "template"
    DISK = "disk"
    HOST = "host"
    CLUSTER = "cluster"
    DATA_CENTER = "data_center"
    STORAGE_DOMAIN = "storage_domain"
    NETWORK = "network"
    VNIC_PROFILE = "vnic_profile"
    VM_POOL = "vm_pool"


@dataclass(frozen=True)
class Permission:
    id: str
    user_id: str  # "" when the permission is a group's
    role_id: str
    object_type: ObjectType
    object_id: str
    group_id: str = ""


@dataclass(frozen=True)
class Rights:
    """What one user's permissions (their own and their groups') give."""

    superuser: bool
    granted: frozenset[str]  # VMs to see and use
    managed: frozenset[str]  # VMs to edit, remove and share
    permits: frozenset[tuple[str, str]]  # (object id, permit)


Finder = Callable[[str], Any]


class Grants:
    def __init__(self, ctx: EngineContext, roles: Roles) -> None:
        self.ctx = ctx
        self.roles = roles
        self.table: Table[Permission] = Table(
            ctx.store.db, name="permissions", cls=Permission, noun="permission",
            columns=("user_id", "role_id", "object_id", "group_id"))
        store = ctx.store
        self._finders: dict[ObjectType, Finder] = {
            ObjectType.VM: store.vms.find, ObjectType.TEMPLATE: store.templates.find,
            ObjectType.DISK: store.disks.find, ObjectType.HOST: store.hosts.find,
            ObjectType.CLUSTER: store.clusters.find,
            ObjectType.DATA_CENTER: store.datacenters.find,
            ObjectType.STORAGE_DOMAIN: store.storage_domains.find,
            ObjectType.NETWORK: store.networks.find,
            ObjectType.VNIC_PROFILE: store.vnic_profiles.find,
        }

    def add_objects(self, finders: Mapping[ObjectType, Finder]) -> None:
        """Kinds of object other services keep (pools)."""
        self._finders.update(finders)

    def find_object(self, object_type: ObjectType, object_id: str) -> Any:
        if object_type is ObjectType.SYSTEM:
            return object_id if object_id == SYSTEM_OBJECT_ID else None
        return self._finders[object_type](object_id)

    def require_object(self, object_type: ObjectType, object_id: str) -> None:
        if self.find_object(object_type, object_id) is None:
            if object_type is ObjectType.SYSTEM:
                raise InvalidInput(f"The system object's id is {SYSTEM_OBJECT_ID}.")
            noun = object_type.value.replace("_", " ")
            raise NotFound(f"There is no {noun} with id '{object_id[:60]}'.")

    def insert(self, *, role: Role, object_type: ObjectType, object_id: str,
               user_id: str = "", group_id: str = "") -> Permission:
        """The permission, unless the same one exists (then that one)."""
        with self.ctx.store.db.transaction():
            for existing in self.table.where(object_id=object_id, role_id=role.id,
                                             user_id=user_id, group_id=group_id):
                return existing
            return self.table.insert(Permission(
                id=new_id(), user_id=user_id, role_id=role.id, object_type=object_type,
                object_id=object_id, group_id=group_id))

    def where(self, **conditions: str) -> builtins.list[Permission]:
        """Permissions on objects that still exist."""
        return [p for p in self.table.where(**conditions) if self._alive(p)]

    def delete_all(self, permissions: Iterable[Permission]) -> None:
        with self.ctx.store.db.transaction():
            for permission in permissions:
                self.table.delete(permission.id)

    def role_in_use(self, role_id: str) -> bool:
        return bool(self.where(role_id=role_id))

    def rights_of(self, user_id: str, group_ids: Iterable[str] = ()) -> Rights:
        held = self.where(user_id=user_id)
        for group_id in group_ids:
            held += self.where(group_id=group_id)
        superuser = False
        granted: set[str] = set()
        managed: set[str] = set()
        permits: set[tuple[str, str]] = set()
        for permission in held:
            role = self.roles.find(permission.role_id)
            if role is None:
                continue
            if role.name == "SuperUser" and permission.object_type is ObjectType.SYSTEM:
                superuser = True
            permits.update((permission.object_id, p.value) for p in role.permits)
            if permission.object_type is ObjectType.VM and USE_VM & set(role.permits):
                granted.add(permission.object_id)
                if Permit.DELETE_VM in role.permits:
                    managed.add(permission.object_id)
        return Rights(superuser=superuser, granted=frozenset(granted),
                      managed=frozenset(managed), permits=frozenset(permits))

    def _alive(self, permission: Permission) -> bool:
        if permission.object_type not in self._finders and \
                permission.object_type is not ObjectType.SYSTEM:
            return True  # a kind this process does not keep (the console's directory)
        return self.find_object(permission.object_type, permission.object_id) is not None
