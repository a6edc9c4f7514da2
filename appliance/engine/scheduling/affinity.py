"""Affinity as the scheduler sees it, oVirt's rules: a group's VM-to-VM rule keeps its VMs on
the host of its other running members (positive) or away from them (negative); its
VM-to-host rule keeps them on its hosts or off them. An enforcing rule filters hosts, a
non-enforcing one only weighs. Labels in a group stand for the VMs and hosts carrying them."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import AffinityGroup, AffinityRule, Vm
from appliance.engine.scheduling.load import HostLoad
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class Membership:
    """One group the VM is in: the hosts its other members run on, and the group's hosts."""

    group: AffinityGroup
    peer_hosts: frozenset[str]
    group_hosts: frozenset[str]


@dataclass(frozen=True)
class Affinity:
    vm: Vm
    groups: tuple[Membership, ...]

    @classmethod
    def of(cls, store: Store, vm: Vm) -> Affinity:
        labels = {label.id: label for label in store.affinity_labels.all()}
        found = []
        for group in store.affinity_groups.where(cluster_id=vm.cluster_id):
            members = set(group.vm_ids)
            for label_id in group.vm_label_ids:
                members.update(labels[label_id].vm_ids if label_id in labels else ())
            if vm.id not in members:
                continue
            hosts = set(group.host_ids)
            for label_id in group.host_label_ids:
                hosts.update(labels[label_id].host_ids if label_id in labels else ())
            peers = frozenset(
                other.host_id for other_id in members - {vm.id}
                if (other := store.vms.find(other_id)) is not None
                and other.status.is_running and other.host_id is not None)
            found.append(Membership(group, peers, frozenset(hosts)))
        return cls(vm, tuple(found))

    def rejection(self, load: HostLoad) -> str | None:
        for member in self.groups:
            group, host = member.group, load.host
            if group.vms_rule.enforcing and _breaks_vms(group.vms_rule, member, host.id):
                if group.vms_rule.positive:
                    return (f"affinity group {group.name} keeps VM {self.vm.name} on the host "
                            "of its other members")
                return (f"affinity group {group.name} keeps VM {self.vm.name} away from host "
                        f"{host.name}, which runs another member")
            if group.hosts_rule.enforcing and _breaks_hosts(group.hosts_rule, member, host.id):
                where = "on its hosts" if group.hosts_rule.positive else f"off host {host.name}"
                return f"affinity group {group.name} keeps VM {self.vm.name} {where}"
        return None

    def violations(self, load: HostLoad) -> int:
        """How many non-enforcing rules a host would go against (lower is better)."""
        count = 0
        for member in self.groups:
            group = member.group
            if not group.vms_rule.enforcing and _breaks_vms(group.vms_rule, member,
                                                             load.host.id):
                count += 1
            if not group.hosts_rule.enforcing and _breaks_hosts(group.hosts_rule, member,
                                                                 load.host.id):
                count += 1
        return count


def _breaks_vms(rule: AffinityRule, member: Membership, host_id: str) -> bool:
    if not rule.enabled or not member.peer_hosts:
        return False
    return (host_id not in member.peer_hosts) if rule.positive else (
        host_id in member.peer_hosts)


def _breaks_hosts(rule: AffinityRule, member: Membership, host_id: str) -> bool:
    if not rule.enabled or not member.group_hosts:
        return False
    return (host_id not in member.group_hosts) if rule.positive else (
        host_id in member.group_hosts)
