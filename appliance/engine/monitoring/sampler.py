"""The sampler: every ``[monitoring] interval_seconds`` it asks each host agent for its
counters (one bulk libvirt call per host), reads the storage domains' usage, turns them into
measurements, keeps the latest in memory (for the API and ``/metrics``) and feeds history."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from appliance.engine.clock import Clock
from appliance.engine.context import EngineContext
from appliance.engine.monitoring.history import DEFAULT_TIERS, History, Tier
from appliance.engine.monitoring.measurements import (
    Measurement,
    ObjectKind,
    host_measurement,
    storage_measurement,
    vm_measurement,
)
from appliance.engine.storage import StorageDomains
from appliance.errors import ConfigError, VirtStickError
from appliance.vdsm.stats import AgentSample

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Round:
    """What one sampling round cost, for ``/metrics`` and the benchmark."""

    number: int
    objects: int
    seconds: float  # wall time
    cpu_seconds: float  # CPU time of the sampling thread


class Monitor:
    def __init__(self, ctx: EngineContext, storage_domains: StorageDomains, *,
                 clock: Clock | None = None, tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> None:
        self.ctx = ctx
        self.storage_domains = storage_domains
        self.interval = ctx.config.monitoring.interval_seconds
        if self.interval < 1:
            raise ConfigError("[monitoring] interval_seconds must be at least 1.")
        self.clock = clock or ctx.clock
        self.history = History(ctx.store.db, self.clock, tiers)
        self.last_round = Round(0, 0, 0.0, 0.0)
        self._latest: dict[str, Measurement] = {}
        self._previous: dict[str, AgentSample] = {}
        self._done = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._watchers: tuple[Callable[[list[Measurement]], None], ...] = ()

    def watch(self, watcher: Callable[[list[Measurement]], None]) -> None:
        """Call ``watcher`` with each round's measurements (the engine's change feed)."""
        self._watchers = (*self._watchers, watcher)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="monitoring", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def latest(self, object_id: str) -> Measurement | None:
        return self._latest.get(object_id)

    def latest_all(self, kind: ObjectKind | None = None) -> list[Measurement]:
        return [m for m in self._latest.values() if kind is None or m.kind is kind]

    def wait_rounds(self, count: int = 1, timeout: float = 60.0) -> Round:
        """Block until ``count`` more rounds have finished (tests, the portal's refresh)."""
        with self._done:
            target = self.last_round.number + count
            if not self._done.wait_for(lambda: self.last_round.number >= target, timeout):
                raise TimeoutError(f"no monitoring round within {timeout} s")
            return self.last_round

    def sample_once(self) -> list[Measurement]:
        wall, cpu = time.monotonic(), time.thread_time()
        found: list[Measurement] = []
        for host_id, agent in list(self.ctx.hosts.agents.items()):
            try:
                sample = agent.statistics()
            except VirtStickError as exc:
                log.warning("no statistics from host %s: %s", host_id, exc.detail)
                continue
            found.extend(self._host(host_id, sample))
        found.extend(self._storage())
        self.history.record(found)
        for watcher in self._watchers:
            watcher(found)
        # VMs that stopped drop out of the latest values (and out of /metrics).
        self._latest = {m.object_id: m for m in found}
        with self._done:
            self.last_round = Round(self.last_round.number + 1, len(found),
                                    time.monotonic() - wall, time.thread_time() - cpu)
            self._done.notify_all()
        return found

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample_once()
            except Exception:
                log.exception("a monitoring round failed")
            self._stop.wait(self.interval)

    def _host(self, host_id: str, sample: AgentSample) -> Sequence[Measurement]:
        now = self.clock.now()
        previous = self._previous.get(host_id)
        self._previous[host_id] = sample
        vms = {vm.id: vm for vm in self.ctx.store.vms.where(host_id=host_id)}
        host = self.ctx.store.hosts.find(host_id)
        before = {v.uuid: v for v in previous.vms} if previous is not None else {}
        seconds = sample.monotonic - previous.monotonic if previous is not None else 0.0
        found = [host_measurement(host_id, host.name if host else host_id, now=now,
                                  current=sample, previous=previous,
                                  vms_running=sum(1 for v in sample.vms if v.uuid in vms))]
        for current in sample.vms:
            vm = vms.get(current.uuid)
            if vm is None:
                continue  # not ours, or not yet in the store
            found.append(vm_measurement(vm.id, vm.name, now=now, memory_installed=vm.memory,
                                        current=current, seconds=seconds,
                                        previous=before.get(current.uuid)))
        return found

    def _storage(self) -> list[Measurement]:
        if not self.ctx.hosts.agents:
            return []
        now = self.clock.now()
        found = []
        for domain in self.ctx.store.storage_domains.all():
            try:
                usage = self.storage_domains.usage(domain)
            except (OSError, VirtStickError) as exc:
                log.warning("no usage for storage domain %s: %s", domain.name, exc)
                continue
            found.append(storage_measurement(domain.id, domain.name, now=now,
                                             capacity=usage.capacity, used=usage.used,
                                             free=usage.free, committed=usage.committed,
                                             ram=usage.ram))
        return found
