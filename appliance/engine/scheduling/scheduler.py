"""Placement by filters and weights under the cluster's policy, with clear refusals."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from appliance.engine.context import EngineContext
from appliance.engine.enums import HostStatus
from appliance.engine.model import Host, Vm
from appliance.engine.scheduling import filters, policies
from appliance.engine.scheduling.affinity import Affinity
from appliance.engine.scheduling.load import CpuMeter, HostLoad
from appliance.errors import HostAgentError, InsufficientResources, InvalidState


class Scheduler:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.cpu = CpuMeter()
        self._lock = threading.Lock()
        self._reserved: dict[str, int] = {}  # host id -> bytes promised to arriving VMs

    def load(self, host: Host) -> HostLoad:
        agent = self.ctx.hosts.agents.get(host.id)
        networks: frozenset[str] = frozenset()
        untagged = False
        cpu = self.cpu.percent(host.id)
        if agent is not None and agent.reachable:
            networks = agent.networks()
            untagged = agent.carries_untagged_networks()
            if untagged:
                networks |= {n.name for n in self.ctx.store.networks.all() if not n.vlan_id}
            with suppress(HostAgentError):
                cpu = self.cpu.sample(host.id, cpu_ns=agent.cpu_time_ns(), cpus=host.cpus)
        vms = tuple(v for v in self.ctx.store.vms.where(host_id=host.id) if v.status.is_running)
        with self._lock:
            reserved = self._reserved.get(host.id, 0)
        cluster = self.ctx.store.clusters.find(host.cluster_id)
        return HostLoad(host=host, vms=vms, reserved=reserved, cpu_percent=cpu,
                        networks=networks, untagged=untagged,
                        overcommit_percent=cluster.memory_overcommit_percent if cluster else 100)

    def loads(self, cluster_id: str) -> list[HostLoad]:
        """The hosts of a cluster that can take VMs now: Up and connected."""
        return [self.load(h) for h in self.ctx.store.hosts.where(cluster_id=cluster_id)
                if h.status is HostStatus.UP and h.id in self.ctx.hosts.agents]

    def vm_networks(self, vm: Vm) -> frozenset[str]:
        store = self.ctx.store
        names = set()
        for nic in store.nics.where(vm_id=vm.id):
            if nic.plugged and nic.vnic_profile_id is not None:
                profile = store.vnic_profiles.get(nic.vnic_profile_id)
                names.add(store.networks.get(profile.network_id).name)
        return frozenset(names)

    def pick_host(self, vm: Vm, *, exclude: frozenset[str] = frozenset()) -> str:
        """The best host for the VM, or an error that says why no host fits."""
        cluster = self.ctx.store.clusters.get(vm.cluster_id)
        policy = policies.for_cluster(cluster)
        loads = [load for load in self.loads(vm.cluster_id) if load.host.id not in exclude]
        if not loads:
            raise InvalidState(f"No other host of cluster {cluster.name} is up: activate "
                               "or add a host first." if exclude else
                               f"No host of cluster {cluster.name} is up: activate a host "
                               "first.")
        fitting = [load for load in loads if not self.rejections(vm, load)]
        if not fitting:
            reasons = "; ".join(r for load in loads for r in self.rejections(vm, load))
            raise InsufficientResources(
                f"Cannot run VM {vm.name}. There is no host that satisfies current scheduling "
                f"constraints. See below for details: {reasons}.")
        affinity = Affinity.of(self.ctx.store, vm)
        return min(fitting, key=lambda x: (affinity.violations(x), policy.weight(x))).host.id

    def rejections(self, vm: Vm, load: HostLoad) -> list[str]:
        """Why the VM may not run on this host (resources, networks, affinity)."""
        reasons = filters.rejections(vm, load, self.vm_networks(vm))
        refused = Affinity.of(self.ctx.store, vm).rejection(load)
        return reasons + [refused] if refused else reasons

    def check_target(self, vm: Vm, host_id: str) -> None:
        """Refuse a chosen target host with the reason, before anything starts."""
        host = self.ctx.store.hosts.get(host_id)
        if host.cluster_id != vm.cluster_id:
            raise InvalidState(f"Host {host.name} is not in the VM's cluster.")
        if host.status is not HostStatus.UP or host.id not in self.ctx.hosts.agents:
            raise InvalidState(f"Host {host.name} is {host.status.value}; VMs can only go "
                               "to a host that is up.")
        reasons = self.rejections(vm, self.load(host))
        if reasons:
            raise InsufficientResources(f"VM {vm.name} cannot go to host {host.name}: "
                                        f"{'; '.join(reasons)}.")

    @contextmanager
    def reserve(self, host_id: str, memory: int) -> Iterator[None]:
        """Count memory as taken on a host while a VM is on its way there."""
        with self._lock:
            self._reserved[host_id] = self._reserved.get(host_id, 0) + memory
        try:
            yield
        finally:
            with self._lock:
                self._reserved[host_id] -= memory
