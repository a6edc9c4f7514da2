"""Affinity labels (oVirt's ``/affinitylabels``): names that VMs and hosts carry, so an
affinity group can hold every VM or host with a label. As on oVirt, a label still on a VM or
a host cannot be removed, and a read-only label cannot be changed."""

from __future__ import annotations

import builtins
import re
from dataclasses import replace
from enum import StrEnum

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import AffinityLabel
from appliance.errors import Conflict, InvalidInput, NameInUse, NotFound

_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")  # oVirt: letters, numbers, '-' and '_'


class Carrier(StrEnum):
    VM = "vms"
    HOST = "hosts"

    def of(self, label: AffinityLabel) -> tuple[str, ...]:
        return label.vm_ids if self is Carrier.VM else label.host_ids

    def set(self, label: AffinityLabel, ids: tuple[str, ...]) -> AffinityLabel:
        return replace(label, vm_ids=ids) if self is Carrier.VM else replace(label, host_ids=ids)


class AffinityLabels:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[AffinityLabel]:
        return [self._alive(label) for label in self.ctx.store.affinity_labels.all()]

    def get(self, label_id: str) -> AffinityLabel:
        label = self.ctx.store.affinity_labels.find(label_id)
        if label is None:
            raise NotFound(f"There is no affinity label with id '{label_id[:60]}'.")
        return self._alive(label)

    def find(self, label_id: str) -> AffinityLabel | None:
        label = self.ctx.store.affinity_labels.find(label_id)
        return self._alive(label) if label is not None else None

    def find_by_name(self, name: str) -> AffinityLabel | None:
        label = self.ctx.store.affinity_labels.by_name(name)
        return self._alive(label) if label is not None else None

    def of(self, carrier: Carrier, object_id: str) -> builtins.list[AffinityLabel]:
        """The labels a VM or a host carries."""
        return [label for label in self.list() if object_id in carrier.of(label)]

    @audited(AuditAction.AFFINITY_LABEL_ADD)
    def add(self, name: str, *, actor: Actor) -> AffinityLabel:
        require_superuser(actor, "add affinity labels")
        label = AffinityLabel(id=new_id(), name=_checked_name(name))
        with self.ctx.store.db.transaction():
            self._unique(label.name, label.id)
            self.ctx.store.affinity_labels.insert(label)
        self.ctx.events.record(EventCode.AFFINITY_LABEL_ADDED, f"Affinity label {label.name} "
                               f"was added by {actor.name}.", user=actor.name)
        return label

    @audited(AuditAction.AFFINITY_LABEL_UPDATE)
    def update(self, label_id: str, name: str, *, actor: Actor) -> AffinityLabel:
        require_superuser(actor, "change affinity labels")
        label = self._changeable(label_id)
        name = _checked_name(name)
        with self.ctx.store.db.transaction():
            self._unique(name, label.id)
            changed = self.ctx.store.affinity_labels.update(replace(label, name=name))
        self.ctx.events.record(EventCode.AFFINITY_LABEL_UPDATED, f"Affinity label {name} was "
                               f"changed by {actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.AFFINITY_LABEL_REMOVE)
    def remove(self, label_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove affinity labels")
        label = self._changeable(label_id)
        if label.vm_ids or label.host_ids:
            raise Conflict(f"Cannot delete affinity label {label.name}: remove it from all "
                           "VMs and hosts first.")
        self.ctx.store.affinity_labels.delete(label.id)
        self.ctx.events.record(EventCode.AFFINITY_LABEL_REMOVED, f"Affinity label "
                               f"{label.name} was removed by {actor.name}.", user=actor.name)

    @audited(AuditAction.AFFINITY_LABEL_ATTACH)
    def attach(self, label_id: str, carrier: Carrier, object_id: str, *,
               actor: Actor) -> AffinityLabel:
        """Put the label on a VM or a host (again: no change)."""
        require_superuser(actor, "label VMs and hosts")
        label = self._changeable(label_id)
        table = self.ctx.store.vms if carrier is Carrier.VM else self.ctx.store.hosts
        table.get(object_id)
        current = carrier.of(label)
        if object_id in current:
            return label
        return self.ctx.store.affinity_labels.update(carrier.set(label, (*current, object_id)))

    @audited(AuditAction.AFFINITY_LABEL_DETACH)
    def detach(self, label_id: str, carrier: Carrier, object_id: str, *,
               actor: Actor) -> AffinityLabel:
        require_superuser(actor, "label VMs and hosts")
        label = self._changeable(label_id)
        current = carrier.of(label)
        if object_id not in current:
            noun = "VM" if carrier is Carrier.VM else "host"
            raise NotFound(f"Affinity label {label.name} is not on the {noun} with id "
                           f"'{object_id[:60]}'.")
        return self.ctx.store.affinity_labels.update(carrier.set(
            label, tuple(i for i in current if i != object_id)))

    def _changeable(self, label_id: str) -> AffinityLabel:
        label = self.get(label_id)
        if label.read_only:
            raise Conflict(f"Cannot change read-only affinity label {label.name}.")
        return label

    def _unique(self, name: str, label_id: str) -> None:
        other = self.ctx.store.affinity_labels.by_name(name)
        if other is not None and other.id != label_id:
            raise NameInUse(f"Cannot add affinity label {name}: the name is in use.")

    def _alive(self, label: AffinityLabel) -> AffinityLabel:
        store = self.ctx.store
        return replace(
            label, vm_ids=tuple(i for i in label.vm_ids if store.vms.find(i) is not None),
            host_ids=tuple(i for i in label.host_ids if store.hosts.find(i) is not None))


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name or ""):
        raise InvalidInput(f"'{(name or '')[:60]}' is not a valid affinity label name: use 1 "
                           "to 50 letters, numbers, '-' and '_'.")
    return name
