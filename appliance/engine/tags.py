"""Tags (oVirt's ``/tags``): names in a tree under oVirt's read-only ``root`` tag, given to
VMs and hosts. Searching ``tag=X`` finds what carries X or a tag below X, as oVirt's search
does. Changing tags and who carries them needs the tag_management permit (TagManager) or
the SuperUser role; everyone may read them."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_permit
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.permits import Permit
from appliance.engine.store.tables import Table
from appliance.errors import Conflict, NameInUse, NotFound

ROOT_TAG_ID = "00000000-0000-0000-0000-000000000000"  # oVirt's id of the root tag
MAX_DESCRIPTION = 4000


class TagTarget(StrEnum):
    VM = "vm"
    HOST = "host"


@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    description: str = ""
    parent_id: str = ROOT_TAG_ID  # "" for the root itself
    read_only: bool = False


@dataclass(frozen=True)
class TagAssignment:
    id: str
    tag_id: str
    target: TagTarget
    object_id: str


ROOT = Tag(id=ROOT_TAG_ID, name="root", description="root", parent_id="", read_only=True)


class Tags:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        db = ctx.store.db
        self.table: Table[Tag] = Table(db, name="tags", cls=Tag, noun="tag", columns=("name",))
        self.assignments: Table[TagAssignment] = Table(
            db, name="tag_assignments", cls=TagAssignment, noun="tag assignment",
            columns=("tag_id", "object_id"))

    # Reads

    def list(self) -> builtins.list[Tag]:
        return [ROOT, *self.table.all()]

    def get(self, tag_id: str) -> Tag:
        found = self.find(tag_id)
        if found is None:
            raise NotFound(f"There is no tag with id '{tag_id[:60]}'.")
        return found

    def find(self, tag_id: str) -> Tag | None:
        return ROOT if tag_id == ROOT_TAG_ID else self.table.find(tag_id)

    def find_by_name(self, name: str) -> Tag | None:
        return ROOT if name == ROOT.name else self.table.by_name(name)

    def of(self, target: TagTarget, object_id: str) -> builtins.list[Tag]:
        """The tags an object carries."""
        ids = {a.tag_id for a in self.assignments.where(object_id=object_id)
               if a.target is target}
        return [t for t in self.table.all() if t.id in ids]

    def carriers(self) -> dict[str, tuple[str, ...]]:
        """For ``tag=`` searches: each tagged object's tags by name, with their ancestors."""
        tags = {t.id: t for t in self.list()}
        found: dict[str, tuple[str, ...]] = {}
        for assignment in self.assignments.all():
            names = found.get(assignment.object_id, ())
            tag = tags.get(assignment.tag_id)
            while tag is not None and tag.id != ROOT_TAG_ID:
                if tag.name not in names:
                    names = (*names, tag.name)
                tag = tags.get(tag.parent_id)
            found[assignment.object_id] = names
        return found

    # Changes

    @audited(AuditAction.TAG_ADD)
    def add(self, name: str, *, actor: Actor, description: str = "",
            parent_id: str = ROOT_TAG_ID) -> Tag:
        require_permit(actor, Permit.TAG_MANAGEMENT, "manage tags")
        tag = Tag(id=new_id(), name=_name(name), description=_description(description),
                  parent_id=self.get(parent_id).id)
        with self.ctx.store.db.transaction():
            self._unique(tag)
            self.table.insert(tag)
        self.ctx.events.record(EventCode.TAG_ADDED, f"Tag {tag.name} was added by "
                               f"{actor.name}.", user=actor.name)
        return tag

    @audited(AuditAction.TAG_UPDATE)
    def update(self, tag_id: str, *, actor: Actor, name: str | None = None,
               description: str | None = None, parent_id: str | None = None) -> Tag:
        require_permit(actor, Permit.TAG_MANAGEMENT, "manage tags")
        tag = self._editable(tag_id)
        changed = replace(
            tag, name=tag.name if name is None else _name(name),
            description=tag.description if description is None else _description(description),
            parent_id=tag.parent_id if parent_id is None else self.get(parent_id).id)
        if changed.parent_id != tag.parent_id and tag.id in self._lineage(changed.parent_id):
            raise Conflict("Operation canceled, recursive Tag hierarchy cannot be defined.")
        with self.ctx.store.db.transaction():
            self._unique(changed)
            self.table.update(changed)
        self.ctx.events.record(EventCode.TAG_UPDATED, f"Tag {changed.name} was changed by "
                               f"{actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.TAG_REMOVE)
    def remove(self, tag_id: str, *, actor: Actor) -> None:
        """The tag, the tags below it, and every object's assignment of them."""
        require_permit(actor, Permit.TAG_MANAGEMENT, "manage tags")
        tag = self._editable(tag_id)
        gone = self._subtree(tag.id)
        with self.ctx.store.db.transaction():
            for assignment in self.assignments.all():
                if assignment.tag_id in gone:
                    self.assignments.delete(assignment.id)
            for removed in gone:
                self.table.delete(removed)
        self.ctx.events.record(EventCode.TAG_REMOVED, f"Tag {tag.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    @audited(AuditAction.TAG_ASSIGN)
    def assign(self, tag_id: str, target: TagTarget, object_id: str, *,
               actor: Actor) -> Tag:
        """The tag on the object (again: no change, as on oVirt)."""
        require_permit(actor, Permit.TAG_MANAGEMENT, "tag VMs and hosts")
        tag = self.get(tag_id)
        if tag.id == ROOT_TAG_ID:
            raise Conflict("The root tag is given to nothing; make a tag below it.")
        with self.ctx.store.db.transaction():
            if not any(a.tag_id == tag.id and a.target is target
                       for a in self.assignments.where(object_id=object_id)):
                self.assignments.insert(TagAssignment(id=new_id(), tag_id=tag.id,
                                                      target=target, object_id=object_id))
        code = EventCode.TAG_ON_VM if target is TagTarget.VM else EventCode.TAG_ON_HOST
        self.ctx.events.record(code, f"Tag {tag.name} was given to {target.value} "
                               f"{object_id} by {actor.name}.", user=actor.name,
                               vm_id=object_id if target is TagTarget.VM else None,
                               host_id=object_id if target is TagTarget.HOST else None)
        return tag

    @audited(AuditAction.TAG_UNASSIGN)
    def unassign(self, tag_id: str, target: TagTarget, object_id: str, *,
                 actor: Actor) -> None:
        require_permit(actor, Permit.TAG_MANAGEMENT, "tag VMs and hosts")
        found = [a for a in self.assignments.where(object_id=object_id, tag_id=tag_id)
                 if a.target is target]
        if not found:
            raise NotFound(f"The {target.value} has no tag with id '{tag_id[:60]}'.")
        with self.ctx.store.db.transaction():
            for assignment in found:
                self.assignments.delete(assignment.id)
        code = EventCode.TAG_OFF_VM if target is TagTarget.VM else EventCode.TAG_OFF_HOST
        self.ctx.events.record(code, f"Tag {self.get(tag_id).name} was taken from "
                               f"{target.value} {object_id} by {actor.name}.", user=actor.name)

    def _editable(self, tag_id: str) -> Tag:
        tag = self.get(tag_id)
        if tag.read_only:
            raise Conflict(f"Cannot edit readonly tag {tag.name}.")
        return tag

    def _unique(self, tag: Tag) -> None:
        other = self.find_by_name(tag.name)
        if other is not None and other.id != tag.id:
            raise NameInUse(f"The specified Tag name already exists: {tag.name}.")

    def _lineage(self, tag_id: str) -> set[str]:
        """The tag and every tag above it."""
        found: set[str] = set()
        tag = self.find(tag_id)
        while tag is not None and tag.id not in found:
            found.add(tag.id)
            tag = self.find(tag.parent_id) if tag.parent_id else None
        return found

    def _subtree(self, tag_id: str) -> set[str]:
        found = {tag_id}
        tags = self.table.all()
        grew = True
        while grew:
            below = {t.id for t in tags if t.parent_id in found} - found
            grew = bool(below)
            found |= below
        return found


def _name(name: str) -> str:
    return validation.name(name.strip(), noun="tag")


def _description(text: str) -> str:
    return text[:MAX_DESCRIPTION]
