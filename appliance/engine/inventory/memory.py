"""Read model of what the lab does for memory: what KSM saves on each machine, and each
cluster's memory promised to VMs against its overcommit limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.engine.enums import HostKind
from appliance.engine.model import Vm
from appliance.engine.monitoring import Measurement
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class HostKsm:
    """Kernel same-page merging on one machine (lab hosts share their machine's kernel)."""

    host_id: str
    host_name: str
    running: bool
    saved: int  # bytes the merged pages would take unmerged
    shared: int  # bytes the merged copies take
    lab_hosts: int  # lab hosts on the same machine, counted in these figures


@dataclass(frozen=True)
class ClusterMemory:
    name: str
    overcommit_percent: int
    promised: int  # memory of its running VMs
    host_memory: int  # of its hosts

    @property
    def ratio(self) -> float:
        return self.promised / self.host_memory if self.host_memory else 0.0

    @property
    def limit(self) -> float:
        return self.overcommit_percent / 100


def host_ksm(store: Store, latest: Callable[[str], Measurement | None]) -> list[HostKsm]:
    hosts = store.hosts.all()
    labs = sum(1 for h in hosts if h.kind is HostKind.LAB)
    found = []
    for host in hosts:
        measured = latest(host.id)
        if host.kind is HostKind.LAB or measured is None:
            continue
        values = measured.values
        found.append(HostKsm(host_id=host.id, host_name=host.name,
                             running=bool(values.get("ksm_running", 0.0)),
                             saved=int(values.get("ksm_saved", 0.0)),
                             shared=int(values.get("ksm_shared", 0.0)),
                             lab_hosts=labs if host.kind is HostKind.LOCAL else 0))
    return found


def cluster_memory(store: Store, running: tuple[Vm, ...]) -> list[ClusterMemory]:
    hosts = store.hosts.all()
    return [ClusterMemory(name=c.name, overcommit_percent=c.memory_overcommit_percent,
                          promised=sum(v.memory for v in running if v.cluster_id == c.id),
                          host_memory=sum(h.memory for h in hosts if h.cluster_id == c.id))
            for c in sorted(store.clusters.all(), key=lambda c: c.name)]
