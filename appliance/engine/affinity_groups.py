"""Affinity groups of a cluster (oVirt's ``clusters/{id}/affinitygroups``), kept exactly as
asked: the VM-to-VM and VM-to-host rules, their VMs, hosts and labels. The scheduler reads
them (scheduling/affinity.py); changing them needs the manipulate_affinity_groups permit on
the cluster (ClusterAdmin) or the SuperUser role."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_permit
from appliance.engine.context import EngineContext
from appliance.engine.enums import AffinityPolarity
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import AffinityGroup, AffinityRule
from appliance.engine.permits import Permit
from appliance.errors import InvalidInput, NotFound


class Member(StrEnum):
    """What an affinity group holds, with oVirt's sub-collection names."""

    VM = "vms"
    HOST = "hosts"
    VM_LABEL = "vmlabels"
    HOST_LABEL = "hostlabels"

    @property
    def noun(self) -> str:
        return {"vms": "VM", "hosts": "host", "vmlabels": "VM label",
                "hostlabels": "host label"}[self.value]

    def of(self, group: AffinityGroup) -> tuple[str, ...]:
        return {Member.VM: group.vm_ids, Member.HOST: group.host_ids,
                Member.VM_LABEL: group.vm_label_ids,
                Member.HOST_LABEL: group.host_label_ids}[self]

    def set(self, group: AffinityGroup, ids: tuple[str, ...]) -> AffinityGroup:
        if self is Member.VM:
            return replace(group, vm_ids=ids)
        if self is Member.HOST:
            return replace(group, host_ids=ids)
        if self is Member.VM_LABEL:
            return replace(group, vm_label_ids=ids)
        return replace(group, host_label_ids=ids)


@dataclass(frozen=True)
class GroupSpec:
    """A new group, or the changes to one (None: left as it is)."""

    name: str | None = None
    description: str | None = None
    priority: float | None = None
    vms_rule: AffinityRule | None = None
    hosts_rule: AffinityRule | None = None
    members: tuple[tuple[Member, tuple[str, ...]], ...] = ()  # each replaces that list


class AffinityGroups:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    # Reads: affinity groups are the cluster's, which every user may read

    def list(self, cluster_id: str) -> builtins.list[AffinityGroup]:
        cluster = self.ctx.store.clusters.get(cluster_id)
        return [self._alive(g) for g in self.ctx.store.affinity_groups.where(
            cluster_id=cluster.id)]

    def get(self, cluster_id: str, group_id: str) -> AffinityGroup:
        for group in self.list(cluster_id):
            if group.id == group_id:
                return group
        raise NotFound(f"The cluster has no affinity group with id '{group_id[:60]}'.")

    # Changes

    @audited(AuditAction.AFFINITY_GROUP_ADD)
    def add(self, cluster_id: str, spec: GroupSpec, *, actor: Actor) -> AffinityGroup:
        cluster = self.ctx.store.clusters.get(cluster_id)
        require_permit(actor, Permit.MANIPULATE_AFFINITY_GROUPS, "change affinity groups",
                       cluster.id)
        group = self._checked(AffinityGroup(id=new_id(), cluster_id=cluster.id,
                                            name=spec.name or ""), spec)
        self.ctx.store.affinity_groups.insert(group)
        self.ctx.events.record(EventCode.AFFINITY_GROUP_ADDED, f"Affinity group {group.name} "
                               f"was added to cluster {cluster.name} by {actor.name}.",
                               user=actor.name)
        return group

    @audited(AuditAction.AFFINITY_GROUP_UPDATE)
    def update(self, cluster_id: str, group_id: str, spec: GroupSpec, *,
               actor: Actor) -> AffinityGroup:
        group = self._changing(cluster_id, group_id, actor)
        changed = self.ctx.store.affinity_groups.update(self._checked(group, spec))
        self.ctx.events.record(EventCode.AFFINITY_GROUP_UPDATED, f"Affinity group "
                               f"{changed.name} was changed by {actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.AFFINITY_GROUP_REMOVE)
    def remove(self, cluster_id: str, group_id: str, *, actor: Actor) -> None:
        group = self._changing(cluster_id, group_id, actor)
        self.ctx.store.affinity_groups.delete(group.id)
        self.ctx.events.record(EventCode.AFFINITY_GROUP_REMOVED, f"Affinity group "
                               f"{group.name} was removed by {actor.name}.", user=actor.name)

    @audited(AuditAction.AFFINITY_GROUP_ADD_MEMBER)
    def add_member(self, cluster_id: str, group_id: str, kind: Member, member_id: str, *,
                   actor: Actor) -> AffinityGroup:
        group = self._changing(cluster_id, group_id, actor)
        current = kind.of(group)
        if member_id in current:  # oVirt: ACTION_TYPE_FAILED_DUPLICATE_ENTITY_IN_AFFINITY_GROUP
            raise InvalidInput(f"Cannot add to affinity group {group.name}: duplicate "
                               f"{kind.noun} {member_id[:60]}.")
        spec = GroupSpec(members=((kind, (*current, member_id)),))
        return self.ctx.store.affinity_groups.update(self._checked(group, spec))

    @audited(AuditAction.AFFINITY_GROUP_REMOVE_MEMBER)
    def remove_member(self, cluster_id: str, group_id: str, kind: Member, member_id: str, *,
                      actor: Actor) -> AffinityGroup:
        group = self._changing(cluster_id, group_id, actor)
        current = kind.of(group)
        if member_id not in current:
            raise NotFound(f"Affinity group {group.name} has no {kind.noun} with id "
                           f"'{member_id[:60]}'.")
        kept = tuple(m for m in current if m != member_id)
        return self.ctx.store.affinity_groups.update(kind.set(group, kept))

    @audited(AuditAction.AFFINITY_GROUP_JOIN)
    def join(self, vm_id: str, name: str, *, actor: Actor, positive: bool = False,
             enforcing: bool = True) -> AffinityGroup:
        """Put a VM in its cluster's affinity group ``name`` (the portal's way); a group of
        that name is made when there is none, its VMs kept together (``positive``) or apart;
        an existing group keeps its rules."""
        vm = self.ctx.store.vms.get(vm_id)
        found = self._named(vm.cluster_id, name)
        if found is not None:
            return self.add_member(vm.cluster_id, found.id, Member.VM, vm.id, actor=actor)
        polarity = AffinityPolarity.POSITIVE if positive else AffinityPolarity.NEGATIVE
        return self.add(vm.cluster_id, GroupSpec(
            name=name, vms_rule=AffinityRule(polarity=polarity, enforcing=enforcing),
            members=((Member.VM, (vm.id,)),)), actor=actor)

    @audited(AuditAction.AFFINITY_GROUP_LEAVE)
    def leave(self, vm_id: str, name: str, *, actor: Actor) -> AffinityGroup:
        """Take a VM out of its cluster's affinity group ``name`` (the group stays, as in
        oVirt)."""
        vm = self.ctx.store.vms.get(vm_id)
        found = self._named(vm.cluster_id, name)
        if found is None or vm.id not in found.vm_ids:
            raise NotFound(f"VM {vm.name} is in no affinity group '{name[:60]}'.")
        return self.remove_member(vm.cluster_id, found.id, Member.VM, vm.id, actor=actor)

    def _named(self, cluster_id: str, name: str) -> AffinityGroup | None:
        return next((g for g in self.list(cluster_id) if g.name == name), None)

    def _changing(self, cluster_id: str, group_id: str, actor: Actor) -> AffinityGroup:
        group = self.get(cluster_id, group_id)
        require_permit(actor, Permit.MANIPULATE_AFFINITY_GROUPS, "change affinity groups",
                       group.cluster_id)
        return group

    def _checked(self, group: AffinityGroup, spec: GroupSpec) -> AffinityGroup:
        """The group with the changes, checked as oVirt checks them (400s)."""
        name = group.name if spec.name is None else spec.name
        validation.name(name, noun="affinity group")
        for other in self.ctx.store.affinity_groups.where(cluster_id=group.cluster_id,
                                                          name=name):
            if other.id != group.id:
                raise InvalidInput(f"Cannot add Affinity Group. Affinity Group name {name} "
                                   "already exists.")
        changed = replace(
            group, name=name,
            description=group.description if spec.description is None else spec.description,
            priority=group.priority if spec.priority is None else spec.priority,
            vms_rule=spec.vms_rule or group.vms_rule,
            hosts_rule=spec.hosts_rule or group.hosts_rule)
        for kind, ids in spec.members:
            self._check_members(group, kind, ids)
            changed = kind.set(changed, ids)
        return changed

    def _check_members(self, group: AffinityGroup, kind: Member,
                       ids: tuple[str, ...]) -> None:
        if len(set(ids)) != len(ids):
            raise InvalidInput(f"Cannot add Affinity Group {group.name}: duplicate "
                               f"{kind.noun}.")
        store = self.ctx.store
        for member_id in ids:
            if kind in (Member.VM_LABEL, Member.HOST_LABEL):
                if store.affinity_labels.find(member_id) is None:
                    raise InvalidInput(f"Cannot add Affinity Group {group.name}: provided "
                                       f"label {member_id[:60]} is invalid (does not exist).")
                continue
            found = (store.vms if kind is Member.VM else store.hosts).find(member_id)
            if found is None:
                raise InvalidInput(f"Cannot add Affinity Group {group.name}: provided "
                                   f"{kind.noun} {member_id[:60]} is invalid (does not "
                                   "exist).")
            if found.cluster_id != group.cluster_id:
                raise InvalidInput(f"Cannot add Affinity Group {group.name}: provided "
                                   f"{kind.noun} {found.name} resides in another cluster.")

    def _alive(self, group: AffinityGroup) -> AffinityGroup:
        """Without the members removed since (a removed VM leaves its groups)."""
        store = self.ctx.store
        return replace(
            group, vm_ids=tuple(i for i in group.vm_ids if store.vms.find(i) is not None),
            host_ids=tuple(i for i in group.host_ids if store.hosts.find(i) is not None),
            vm_label_ids=tuple(i for i in group.vm_label_ids
                               if store.affinity_labels.find(i) is not None),
            host_label_ids=tuple(i for i in group.host_label_ids
                                 if store.affinity_labels.find(i) is not None))
