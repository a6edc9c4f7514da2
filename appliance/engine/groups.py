"""Groups of the internal domain (oVirt's ``/groups``): a permission given to a group is
held by each of its members. Members are named at the console (``virtstick group``), as
ovirt-aaa-jdbc-tool names them on oVirt; the API adds and removes groups themselves."""

from __future__ import annotations

import builtins
import time
from dataclasses import dataclass, replace

from appliance.engine import validation
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.store.tables import Table
from appliance.errors import InvalidInput, NameInUse, NotFound

INTERNAL_AUTHZ = "internal-authz"


@dataclass(frozen=True)
class Group:
    id: str
    name: str
    member_ids: tuple[str, ...] = ()
    created: float = 0.0


class Groups:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.table: Table[Group] = Table(ctx.store.db, name="groups", cls=Group, noun="group",
                                         columns=("name",))

    @audited_read(AuditAction.GROUP_LIST)
    def list(self, *, actor: Actor) -> builtins.list[Group]:
        """A SuperUser sees every group, others the groups they are in."""
        groups = self.table.all()
        return groups if actor.superuser else [g for g in groups
                                               if actor.user_id in g.member_ids]

    @audited_read(AuditAction.GROUP_GET)
    def get(self, group_id: str, *, actor: Actor) -> Group:
        group = self.table.find(group_id)
        if group is None or not (actor.superuser or actor.user_id in group.member_ids):
            raise NotFound(f"There is no group with id '{group_id[:60]}'.")
        return group

    def find_by_name(self, name: str) -> Group | None:
        return self.table.by_name(name.partition("@")[0])

    def of_user(self, user_id: str) -> builtins.list[Group]:
        return [g for g in self.table.all() if user_id in g.member_ids]

    @audited(AuditAction.GROUP_ADD)
    def add(self, name: str, *, actor: Actor, domain: str = INTERNAL_AUTHZ) -> Group:
        require_superuser(actor, "add groups")
        _check_domain(domain)
        name = name.partition("@")[0]
        validation.name(name, noun="group")
        group = Group(id=new_id(), name=name, created=time.time())
        with self.ctx.store.db.transaction():
            if self.table.by_name(name) is not None:
                raise NameInUse(f"Cannot add Group: there is already a group named '{name}'.")
            self.table.insert(group)
        self.ctx.events.record(EventCode.GROUP_ADDED, f"Group {name} was added by {actor.name}.",
                               user=actor.name)
        return group

    @audited(AuditAction.GROUP_REMOVE)
    def remove(self, group_id: str, *, actor: Actor) -> Group:
        """The group (its permissions go with it: the users service removes them)."""
        require_superuser(actor, "remove groups")
        group = self.get(group_id, actor=actor)
        self.table.delete(group.id)
        self.ctx.events.record(EventCode.GROUP_REMOVED, f"Group {group.name} was removed by "
                               f"{actor.name}.", user=actor.name)
        return group

    @audited(AuditAction.GROUP_SET_MEMBER)
    def set_member(self, group_id: str, user_id: str, *, actor: Actor,
                   member: bool = True) -> Group:
        """Put a user in the group (``member``) or take them out."""
        require_superuser(actor, "change group members")
        group = self.get(group_id, actor=actor)
        others = tuple(m for m in group.member_ids if m != user_id)
        changed = self.table.update(replace(group, member_ids=(*others, user_id) if member
                                            else others))
        self.ctx.events.record(EventCode.GROUP_MEMBERS_CHANGED, f"{actor.name} "
                               f"{'put' if member else 'took'} user {user_id} "
                               f"{'in' if member else 'out of'} group {group.name}.",
                               user=actor.name)
        return changed

    def forget_member(self, user_id: str) -> None:
        """A removed user leaves every group."""
        with self.ctx.store.db.transaction():
            for group in self.of_user(user_id):
                self.table.update(replace(group, member_ids=tuple(
                    m for m in group.member_ids if m != user_id)))


def _check_domain(domain: str) -> None:
    if domain not in ("", "internal", INTERNAL_AUTHZ):
        raise InvalidInput(f"There is no authorization provider '{domain[:60]}': VirtStick "
                           f"has one, {INTERNAL_AUTHZ}.")
