"""What a host carries: its VMs, the memory promised to VMs on their way, its CPU load."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from appliance.engine.model import Host, Vm


@dataclass(frozen=True)
class HostLoad:
    host: Host
    vms: tuple[Vm, ...]  # running here, migrating ones counted on their source
    reserved: int  # bytes promised to VMs launching or migrating here
    cpu_percent: float  # of the host's CPUs its VMs used lately
    networks: frozenset[str]  # the logical networks it carries, by name
    untagged: bool = False  # whether it carries every network without a VLAN
    overcommit_percent: int = 100  # the cluster's memory overcommit

    @property
    def schedulable_memory(self) -> int:
        """What VMs may be promised on this host: its memory times the overcommit."""
        return self.host.memory * self.overcommit_percent // 100

    @property
    def free_memory(self) -> int:
        """Memory VMs may still be promised here (oVirt's "max scheduling memory" left)."""
        return self.schedulable_memory - sum(v.memory for v in self.vms) - self.reserved

    @property
    def vm_count(self) -> int:
        return len(self.vms)


class CpuMeter:
    """CPU use per host from its VMs' CPU time, between two samples."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int]] = {}  # host -> (when, total cpu ns)
        self._percent: dict[str, float] = {}

    def sample(self, host_id: str, *, cpu_ns: int, cpus: int) -> float:
        now = time.monotonic()
        with self._lock:
            previous = self._last.get(host_id)
            self._last[host_id] = (now, cpu_ns)
            if previous is not None and now > previous[0] and cpu_ns >= previous[1]:
                elapsed_ns = (now - previous[0]) * 1e9
                self._percent[host_id] = 100.0 * (cpu_ns - previous[1]) / (
                    elapsed_ns * max(cpus, 1))
            return self._percent.get(host_id, 0.0)

    def percent(self, host_id: str) -> float:
        with self._lock:
            return self._percent.get(host_id, 0.0)
