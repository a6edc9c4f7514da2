"""Where a VM runs: the Up host of its cluster with the most free memory that fits it."""

from __future__ import annotations

from appliance.engine import validation
from appliance.engine.context import EngineContext
from appliance.engine.enums import HostStatus
from appliance.engine.model import Host, Vm
from appliance.errors import InsufficientResources, InvalidState


class Placement:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def require_memory_fits(self, cluster_id: str, memory: int) -> None:
        """A VM may not ask for more memory than the largest host of its cluster has."""
        hosts = self.ctx.store.hosts.where(cluster_id=cluster_id)
        largest = max((h.memory for h in hosts), default=0)
        if hosts and memory > largest:
            raise InsufficientResources(
                f"The VM asks for {validation.human_size(memory)} of memory; the largest host "
                f"in its cluster has {validation.human_size(largest)}.")

    def pick_host(self, vm: Vm) -> str:
        candidates = [h for h in self.ctx.store.hosts.where(cluster_id=vm.cluster_id)
                      if h.status is HostStatus.UP and h.id in self.ctx.hosts.agents]
        if not candidates:
            raise InvalidState("No host of the VM's cluster is up: activate a host first.")
        fitting = [(self.free_memory(h), h) for h in candidates]
        free, best = max(fitting, key=lambda pair: pair[0])
        if vm.memory > free:
            raise InsufficientResources(
                f"VM '{vm.name}' needs {validation.human_size(vm.memory)} of memory; the host "
                f"with the most free memory, {best.name}, has "
                f"{validation.human_size(free)} left for VMs.")
        return best.id

    def free_memory(self, host: Host) -> int:
        """Host memory less what running VMs were given (no memory overcommit)."""
        used = sum(v.memory for v in self.ctx.store.vms.where(host_id=host.id)
                   if v.status.is_running)
        return host.memory - used
