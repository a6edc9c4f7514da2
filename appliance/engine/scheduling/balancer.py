"""The balancer: every ``hosts.balance_interval`` seconds, each cluster's policy may move one
VM by live migration, and under power_saving switch empty hosts off or back on.

One migration per cluster and round, as oVirt does, so the effect of a move is seen before
the next one is chosen.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from appliance.engine.authz import SYSTEM
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, HostStatus, SchedulingPolicyName
from appliance.engine.event_codes import EventCode
from appliance.engine.hosts import HostService
from appliance.engine.migration import Migrations
from appliance.engine.model import Cluster, Host, Vm
from appliance.engine.power import agent_for
from appliance.engine.scheduling import policies
from appliance.engine.scheduling.load import HostLoad
from appliance.engine.scheduling.policies import Policy, Utilization
from appliance.engine.scheduling.scheduler import Scheduler
from appliance.errors import VirtStickError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Move:
    vm: Vm
    source: HostLoad
    target: HostLoad
    why: str


class Balancer:
    def __init__(self, ctx: EngineContext, *, scheduler: Scheduler, migrations: Migrations,
                 hosts: HostService) -> None:
        self.ctx = ctx
        self.scheduler = scheduler
        self.migrations = migrations
        self.hosts = hosts
        self.utilization = Utilization()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="balancer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def poke(self) -> None:
        """Run a round now (after a policy change)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.ctx.config.hosts.balance_interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            for cluster in self.ctx.store.clusters.all():
                try:
                    self.balance(cluster)
                except Exception:
                    log.exception("balancing cluster %s failed", cluster.name)

    def balance(self, cluster: Cluster) -> Move | None:
        """One round for one cluster: at most one migration, then power saving."""
        with self._lock:
            policy = policies.for_cluster(cluster)
            if policy.name is SchedulingPolicyName.NONE:
                return None
            loads = self.scheduler.loads(cluster.id)
            if any(self.migrations.migrating(v.id) for load in loads for v in load.vms):
                return None  # let the running migration finish first
            move = self._choose(policy, loads)
            if move is not None:
                self._migrate(move)
            elif policy.name is SchedulingPolicyName.POWER_SAVING:
                self._save_power(cluster, policy, self.scheduler.loads(cluster.id))
            return move

    def _choose(self, policy: Policy, loads: list[HostLoad]) -> Move | None:
        if len(loads) < 2:
            return None
        if policy.name is SchedulingPolicyName.VM_EVENLY_DISTRIBUTED:
            return self._spread_vm_count(policy, loads)
        over = [load for load in loads if self.utilization.over(policy, load)]
        if policy.name is SchedulingPolicyName.POWER_SAVING:
            under = [load for load in loads if self.utilization.under(policy, load)]
            move = self._relieve(policy, over, [x for x in loads if x not in over])
            return move or self._consolidate(policy, under, [x for x in loads if x not in over])
        return self._relieve(policy, over, [x for x in loads if x not in over])

    def _relieve(self, policy: Policy, over: list[HostLoad],
                 others: list[HostLoad]) -> Move | None:
        """Move the smallest VM off the busiest over-utilized host to the best other host."""
        for source in sorted(over, key=lambda x: x.free_memory):
            for vm in sorted(source.vms, key=lambda v: v.memory):
                target = self._target(policy, vm, others)
                if target is not None:
                    return Move(vm, source, target, "the host was over-utilized")
        return None

    def _consolidate(self, policy: Policy, under: list[HostLoad],
                     others: list[HostLoad]) -> Move | None:
        """Empty the least loaded under-utilized host into busier hosts (power saving)."""
        for source in sorted((x for x in under if x.vms), key=lambda x: (x.vm_count, x.host.id)):
            busier = [x for x in others if x is not source
                      and (x.vm_count, x.host.id) > (source.vm_count, source.host.id)]
            for vm in sorted(source.vms, key=lambda v: v.memory):
                target = self._target(policy, vm, busier)
                if target is not None:
                    return Move(vm, source, target, "consolidating to save power")
        return None

    def _spread_vm_count(self, policy: Policy, loads: list[HostLoad]) -> Move | None:
        source = max(loads, key=lambda x: x.vm_count)
        fewest = min(loads, key=lambda x: x.vm_count)
        if source.vm_count <= policy.get("HighVmCount") or \
                source.vm_count - fewest.vm_count <= policy.get("MigrationThreshold"):
            return None
        for vm in sorted(source.vms, key=lambda v: v.memory):
            target = self._target(policy, vm, [x for x in loads if x is not source])
            if target is not None:
                return Move(vm, source, target, "the host ran too many VMs")
        return None

    def _target(self, policy: Policy, vm: Vm, candidates: list[HostLoad]) -> HostLoad | None:
        fitting = [x for x in candidates if x.host.id != vm.host_id
                   and not self.scheduler.rejections(vm, x)
                   and not self._would_overload(policy, vm, x)]
        return min(fitting, key=policy.weight) if fitting else None

    def _would_overload(self, policy: Policy, vm: Vm, target: HostLoad) -> bool:
        limit = policy.get("MaxFreeMemoryForOverUtilized")
        return bool(limit) and target.free_memory - vm.memory < limit * 1024 * 1024

    def _migrate(self, move: Move) -> None:
        try:
            job = self.migrations.migrate(move.vm.id, actor=SYSTEM, host_id=move.target.host.id,
                                          reason=f"load balancing: {move.why}")
        except VirtStickError as exc:
            log.info("balancing move of %s refused: %s", move.vm.name, exc.detail)
            return
        self.ctx.jobs.wait(job.id)

    # Power saving

    def _save_power(self, cluster: Cluster, policy: Policy, loads: list[HostLoad]) -> None:
        if not policy.get("EnableAutomaticHostPowerManagement"):
            return
        reserve = policy.get("HostsInReserve")
        empty = [x for x in loads if not x.vms and x.reserved == 0]
        busy_over = loads and all(self.utilization.over(policy, x) for x in loads if x.vms)
        if len(empty) > reserve:
            for load in sorted(empty, key=lambda x: x.host.id)[reserve:]:
                if len(loads) - 1 >= 1:  # never the last host
                    self.standby(load.host)
                    loads = [x for x in loads if x is not load]
        elif len(empty) < reserve or (busy_over and not empty):
            self.wake(cluster.id)

    def standby(self, host: Host) -> bool:
        power = agent_for(host, self.hosts.lab)
        if power is None:
            return False
        self.hosts.disconnect(host.id)
        try:
            power.power_off(host)
        except VirtStickError as exc:
            self.ctx.events.record(EventCode.HOST_STANDBY_FAILED, f"Host {host.name} could not be "
                                   f"switched off: {exc.detail}", host_id=host.id,
                                   severity=EventSeverity.WARNING)
            self.hosts.connect(host)
            return False
        self.hosts.set_status(host.id, HostStatus.DOWN, standby=True)
        self.ctx.events.record(EventCode.HOST_STANDBY, f"Host {host.name} was switched off by the "
                               "power saver.", host_id=host.id)
        return True

    def wake(self, cluster_id: str) -> bool:
        """Switch a standby host of the cluster back on; whether one came back."""
        for host in self.ctx.store.hosts.where(cluster_id=cluster_id):
            if not host.standby:
                continue
            power = agent_for(host, self.hosts.lab)
            if power is None:
                continue
            try:
                power.power_on(host)
                self.hosts.set_status(host.id, HostStatus.CONNECTING, standby=False)
                self.hosts.connect(self.hosts.get(host.id))
            except VirtStickError as exc:
                log.warning("waking host %s failed: %s", host.name, exc.detail)
                continue
            self.ctx.events.record(EventCode.HOST_WOKEN, f"Host {host.name} was switched on by the "
                                   "power saver.", host_id=host.id)
            return True
        return False
