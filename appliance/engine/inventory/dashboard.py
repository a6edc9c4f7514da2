"""Read model of the dashboard: the lab's totals (hosts, VMs, memory, CPUs, storage), with
the latest events and jobs."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.enums import HostStatus, VmStatus
from appliance.engine.inventory import memory
from appliance.engine.inventory.memory import ClusterMemory, HostKsm
from appliance.engine.inventory.storage import DomainRow
from appliance.engine.model import Event, Job, Vm
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class VmCounts:
    total: int
    running: tuple[Vm, ...]


@dataclass(frozen=True)
class Dashboard:
    hosts_up: int
    hosts_total: int
    vms_up: int
    vms_down: int
    vms_total: int
    memory_used: int  # given to running VMs
    memory_total: int  # of the hosts
    vcpus_used: int
    cpus_total: int
    storage: tuple[DomainRow, ...]
    events: tuple[Event, ...]
    jobs: tuple[Job, ...]
    ksm: tuple[HostKsm, ...] = ()
    cluster_memory: tuple[ClusterMemory, ...] = ()

    @property
    def storage_capacity(self) -> int:
        return sum(r.usage.capacity for r in self.storage if r.usage)

    @property
    def storage_used(self) -> int:
        return sum(r.usage.used for r in self.storage if r.usage)

    @property
    def storage_free(self) -> int:
        return sum(r.usage.free for r in self.storage if r.usage)

    @property
    def overcommit_ratio(self) -> float:
        committed = sum(r.usage.committed for r in self.storage if r.usage)
        return committed / self.storage_capacity if self.storage_capacity else 0.0

    @property
    def ksm_saved(self) -> int:
        return sum(k.saved for k in self.ksm)


def all_vm_counts(store: Store) -> VmCounts:
    """Counted by the store's status column: only the running VMs are read whole."""
    running = tuple(vm for status in VmStatus if status.is_running
                    for vm in store.vms.where(status=status))
    return VmCounts(total=store.vms.count(), running=running)


def vm_counts(vms: list[Vm]) -> VmCounts:
    return VmCounts(total=len(vms), running=tuple(v for v in vms if v.status.is_running))


def dashboard(store: Store, vms: VmCounts, *, storage: list[DomainRow], events: list[Event],
              jobs: list[Job], ksm: list[HostKsm]) -> Dashboard:
    hosts = store.hosts.all()
    return Dashboard(
        hosts_up=sum(1 for h in hosts if h.status is HostStatus.UP),
        hosts_total=len(hosts),
        vms_up=len(vms.running),
        vms_down=vms.total - len(vms.running),
        vms_total=vms.total,
        memory_used=sum(v.memory for v in vms.running),
        memory_total=sum(h.memory for h in hosts),
        vcpus_used=sum(v.vcpus for v in vms.running),
        cpus_total=sum(h.cpus for h in hosts),
        storage=tuple(storage),
        events=tuple(events),
        jobs=tuple(jobs),
        ksm=tuple(ksm),
        cluster_memory=tuple(memory.cluster_memory(store, vms.running)),
    )
