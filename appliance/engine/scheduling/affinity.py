"""VM affinity: enforcing groups filter hosts (positive: with the group's other running
members; negative: away from them); non-enforcing groups only weigh."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import AffinityGroup, Vm
from appliance.engine.scheduling.load import HostLoad
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class Affinity:
    """The groups a VM is in, with the hosts their other members run on now."""

    vm: Vm
    groups: tuple[tuple[AffinityGroup, frozenset[str]], ...]

    @classmethod
    def of(cls, store: Store, vm: Vm) -> Affinity:
        cluster = store.clusters.get(vm.cluster_id)
        found = []
        for group in cluster.affinity_groups:
            if vm.id not in group.vm_ids:
                continue
            hosts = frozenset(
                other.host_id for other_id in group.vm_ids if other_id != vm.id
                if (other := store.vms.find(other_id)) is not None
                and other.status.is_running and other.host_id is not None)
            found.append((group, hosts))
        return cls(vm, tuple(found))

    def rejection(self, load: HostLoad) -> str | None:
        for group, hosts in self.groups:
            if not group.enforcing or not hosts:
                continue
            if group.positive and load.host.id not in hosts:
                return (f"affinity group {group.name} keeps VM {self.vm.name} on the host of "
                        "its other members")
            if not group.positive and load.host.id in hosts:
                return (f"affinity group {group.name} keeps VM {self.vm.name} away from host "
                        f"{load.host.name}, which runs another member")
        return None

    def violations(self, load: HostLoad) -> int:
        """How many non-enforcing groups a host would go against (lower is better)."""
        count = 0
        for group, hosts in self.groups:
            if group.enforcing or not hosts:
                continue
            if (load.host.id in hosts) != group.positive:
                count += 1
        return count
