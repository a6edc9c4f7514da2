"""What the portals' pages show, gathered from the engine in one pass per page.

Views stay thin: they call one of these, then render. Lookups of related objects (hosts,
templates) are read once per page, not once per row, so a list of 500 VMs stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.enums import HostStatus, JobStatus, VmStatus
from appliance.engine.model import Event, Host, Job, StorageDomain, Vm
from appliance.engine.storage import DomainUsage
from appliance.errors import VirtStickError


@dataclass(frozen=True)
class VmRow:
    vm: Vm
    host_name: str
    template_name: str


@dataclass(frozen=True)
class DomainRow:
    domain: StorageDomain
    usage: DomainUsage | None  # None: the host could not be asked


@dataclass(frozen=True)
class Dashboard:
    hosts_up: int
    hosts_total: int
    vms_up: int
    vms_down: int
    vms_total: int
    memory_used: int
    memory_total: int
    vcpus_used: int
    cpus_total: int
    storage: list[DomainRow]
    events: list[Event]
    jobs: list[Job]

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


def vm_rows(engine: Engine, actor: Actor, *, query: str = "") -> list[VmRow]:
    hosts = {h.id: h.name for h in engine.store.hosts.all()}
    templates = {t.id: t.name for t in engine.store.templates.all()}
    needle = query.strip().lower()
    rows = []
    for vm in sorted(engine.vms.list(actor=actor), key=lambda v: v.name.lower()):
        if needle and needle not in vm.name.lower() and needle not in vm.description.lower():
            continue
        rows.append(VmRow(vm=vm, host_name=hosts.get(vm.host_id or "", ""),
                          template_name=templates.get(vm.template_id, "")))
    return rows


def domain_rows(engine: Engine) -> list[DomainRow]:
    rows = []
    for domain in sorted(engine.store.storage_domains.all(), key=lambda d: d.name):
        try:
            usage: DomainUsage | None = engine.storage_domains.usage(domain)
        except VirtStickError:
            usage = None
        rows.append(DomainRow(domain=domain, usage=usage))
    return rows


def dashboard(engine: Engine, actor: Actor) -> Dashboard:
    hosts: list[Host] = engine.store.hosts.all()
    if actor.superuser:
        # Counted by the store's status column: only the running VMs are read whole.
        total = engine.store.vms.count()
        running = [vm for status in VmStatus if status.is_running
                   for vm in engine.store.vms.where(status=status)]
    else:
        vms = engine.vms.list(actor=actor)
        total = len(vms)
        running = [v for v in vms if v.status.is_running]
    return Dashboard(
        hosts_up=sum(1 for h in hosts if h.status is HostStatus.UP),
        hosts_total=len(hosts),
        vms_up=len(running),
        vms_down=total - len(running),
        vms_total=total,
        memory_used=sum(v.memory for v in running),
        memory_total=sum(h.memory for h in hosts),
        vcpus_used=sum(v.vcpus for v in running),
        cpus_total=sum(h.cpus for h in hosts),
        storage=domain_rows(engine),
        events=engine.events.recent(limit=12),
        jobs=recent_jobs(engine, limit=8),
    )


def recent_jobs(engine: Engine, *, limit: int = 20, owner: str | None = None) -> list[Job]:
    """Running jobs first, then the latest finished ones."""
    jobs = engine.store.jobs.all()
    if owner is not None:
        jobs = [j for j in jobs if j.owner == owner]
    jobs.sort(key=lambda j: (j.status is not JobStatus.STARTED, -j.start_time))
    return jobs[:limit]
