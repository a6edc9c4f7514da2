"""Where a VM runs: the scheduler's choice under the cluster's policy (filters, weights).

When no Up host fits and the power saver has switched hosts off, one is woken first.
Starts decide one at a time (``deciding``): VMs started together (a bulk Run, parallel API
calls) cannot all be given the same last free memory of a host.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from appliance.engine import validation
from appliance.engine.context import EngineContext
from appliance.engine.model import Host, Vm
from appliance.engine.scheduling import Scheduler
from appliance.errors import InsufficientResources, InvalidState

WakeStandby = Callable[[str], bool]  # cluster id -> whether a host came back


class Placement:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.scheduler = Scheduler(ctx)
        self.wake_standby: WakeStandby | None = None  # set by the power saver
        self._deciding = threading.Lock()

    @contextmanager
    def deciding(self) -> Iterator[None]:
        """Hold while picking a host and marking the VM as placed there."""
        with self._deciding:
            yield

    def require_memory_fits(self, cluster_id: str, memory: int) -> None:
        """A VM may not ask for more memory than the largest host of its cluster has."""
        hosts = self.ctx.store.hosts.where(cluster_id=cluster_id)
        largest = max((h.memory for h in hosts), default=0)
        if hosts and memory > largest:
            raise InsufficientResources(
                f"The VM asks for {validation.human_size(memory)} of memory; the largest host "
                f"in its cluster has {validation.human_size(largest)}.")

    def pick_host(self, vm: Vm) -> str:
        try:
            return self.scheduler.pick_host(vm)
        except (InsufficientResources, InvalidState):
            if self.wake_standby is None or not self.wake_standby(vm.cluster_id):
                raise
        return self.scheduler.pick_host(vm)

    def free_memory(self, host: Host) -> int:
        """Host memory less what running VMs were given (no memory overcommit)."""
        return self.scheduler.load(host).free_memory
