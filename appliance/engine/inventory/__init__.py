"""What the portals' pages show, as typed read models (frozen dataclasses) gathered in one
pass per page, so a face never reads the store itself.

Lookups of related objects (hosts, templates) are read once per page, not once per row, so
a list of 500 VMs stays quick. Who may see what is decided here: the Admin Portal's
inventory needs the SuperUser role; VMs, jobs and names are the actor's own otherwise.
"""

from __future__ import annotations

from appliance.engine.audit import audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.inventory import (
    dashboard,
    events,
    hosts,
    jobs,
    memory,
    networks,
    storage,
    templates,
    tree,
    vms,
)
from appliance.engine.inventory.dashboard import Dashboard
from appliance.engine.inventory.events import EventRow
from appliance.engine.inventory.hosts import HostLoad
from appliance.engine.inventory.networks import NetworkRow
from appliance.engine.inventory.storage import DiskRow, DomainRow, IsoRow
from appliance.engine.inventory.templates import TemplateRow
from appliance.engine.inventory.tree import TreeDataCenter
from appliance.engine.inventory.vms import (
    NewVmChoices,
    VmDetails,
    VmQuery,
    VmRow,
    VmSort,
    VmState,
)
from appliance.engine.isos import Isos
from appliance.engine.model import Job, StorageDomain
from appliance.engine.monitoring import Monitor, event_search
from appliance.engine.monitoring.event_search import EventFilter
from appliance.engine.snapshots import Snapshots
from appliance.engine.storage import StorageDomains
from appliance.engine.vms import Vms
from appliance.errors import NotFound

DASHBOARD_EVENTS = 12
DASHBOARD_JOBS = 8
VM_PAGE_EVENTS = 15


class Inventory:
    def __init__(self, ctx: EngineContext, *, vms: Vms, snapshots: Snapshots, isos: Isos,
                 domains: StorageDomains, monitor: Monitor) -> None:
        self.ctx = ctx
        self._monitor = monitor
        self._vms = vms
        self._snapshots = snapshots
        self._isos = isos
        self._domains = domains

    # VMs

    @audited_read(AuditAction.INVENTORY_LIST_VM_ROWS)
    def list_vm_rows(self, *, actor: Actor, query: VmQuery | None = None) -> list[VmRow]:
        return vms.vm_rows(self.ctx.store, self._vms.list(actor=actor), query)

    @audited_read(AuditAction.INVENTORY_LIST_VM_STATES)
    def list_vm_states(self, *, actor: Actor,
                       ids: frozenset[str] = frozenset()) -> list[VmState]:
        """The VMs ``actor`` sees (only those of ``ids`` when given)."""
        if actor.superuser:
            found = vms.all_vm_states(self.ctx.store)
        else:
            found = vms.vm_states(self.ctx.store, self._vms.list(actor=actor))
        return [s for s in found if s.id in ids] if ids else found

    @audited_read(AuditAction.INVENTORY_LIST_VM_NAMES)
    def list_vm_names(self, *, actor: Actor) -> dict[str, str]:
        """Id to name of the VMs ``actor`` sees."""
        return {v.id: v.name for v in self._vms.list(actor=actor)}

    @audited_read(AuditAction.INVENTORY_GET_VM_DETAILS)
    def get_vm_details(self, vm_id: str, *, actor: Actor) -> VmDetails:
        vm = self._vms.get(vm_id, actor=actor)  # someone else's VM is not found
        return vms.vm_details(
            self.ctx.store, vm, snapshots=self._snapshots.list(vm.id, actor=actor),
            events=self.ctx.events.recent(limit=VM_PAGE_EVENTS, vm_id=vm.id),
            isos=self._isos.list(), full=actor.superuser)

    @audited_read(AuditAction.INVENTORY_GET_NEW_VM_CHOICES)
    def get_new_vm_choices(self, *, actor: Actor) -> NewVmChoices:
        require_superuser(actor, "see the choices for a new VM")
        return vms.new_vm_choices(self.ctx.store, isos=self._isos.list())

    # The lab

    @audited_read(AuditAction.INVENTORY_GET_DASHBOARD)
    def get_dashboard(self, *, actor: Actor) -> Dashboard:
        return dashboard.dashboard(
            self.ctx.store, self._vm_counts(actor),
            storage=storage.domain_rows(self.ctx.store, self._domains.usage),
            events=self.ctx.events.recent(limit=DASHBOARD_EVENTS),
            jobs=jobs.recent_jobs(self.ctx.store, limit=DASHBOARD_JOBS),
            ksm=memory.host_ksm(self.ctx.store, self._monitor.latest))

    @audited_read(AuditAction.INVENTORY_GET_RESOURCE_TREE)
    def get_resource_tree(self, *, actor: Actor) -> tuple[TreeDataCenter, ...]:
        require_superuser(actor, "see the resource tree")
        return tree.resource_tree(self.ctx.store)

    @audited_read(AuditAction.INVENTORY_GET_DASHBOARD_TOTALS)
    def get_dashboard_totals(self, *, actor: Actor) -> Dashboard:
        """The dashboard's counts of hosts, VMs, memory and CPUs alone (no storage, events
        or jobs): what a live dashboard counts again when VMs or hosts change."""
        return dashboard.dashboard(self.ctx.store, self._vm_counts(actor), storage=[],
                                   events=[], jobs=[], ksm=[])

    def _vm_counts(self, actor: Actor) -> dashboard.VmCounts:
        if actor.superuser:
            return dashboard.all_vm_counts(self.ctx.store)
        return dashboard.vm_counts(self._vms.list(actor=actor))

    @audited_read(AuditAction.INVENTORY_LIST_HOST_LOADS)
    def list_host_loads(self, *, actor: Actor) -> list[HostLoad]:
        require_superuser(actor, "see the hosts")
        return hosts.host_loads(self.ctx.store)

    @audited_read(AuditAction.INVENTORY_LIST_HOST_NAMES)
    def list_host_names(self, *, actor: Actor) -> dict[str, str]:
        require_superuser(actor, "see the hosts")
        return {h.id: h.name for h in self.ctx.store.hosts.all()}

    @audited_read(AuditAction.INVENTORY_LIST_TEMPLATE_ROWS)
    def list_template_rows(self, *, actor: Actor) -> list[TemplateRow]:
        require_superuser(actor, "see the templates")
        return templates.template_rows(self.ctx.store)

    @audited_read(AuditAction.INVENTORY_LIST_NETWORK_ROWS)
    def list_network_rows(self, *, actor: Actor) -> list[NetworkRow]:
        require_superuser(actor, "see the networks")
        return networks.network_rows(self.ctx.store)

    # Storage

    @audited_read(AuditAction.INVENTORY_LIST_STORAGE_DOMAINS)
    def list_storage_domains(self, *, actor: Actor) -> list[StorageDomain]:
        require_superuser(actor, "see the storage domains")
        return self.ctx.store.storage_domains.all()

    @audited_read(AuditAction.INVENTORY_LIST_DOMAIN_ROWS)
    def list_domain_rows(self, *, actor: Actor) -> list[DomainRow]:
        require_superuser(actor, "see the storage domains")
        return storage.domain_rows(self.ctx.store, self._domains.usage)

    @audited_read(AuditAction.INVENTORY_LIST_DISK_ROWS)
    def list_disk_rows(self, *, actor: Actor) -> list[DiskRow]:
        require_superuser(actor, "see every disk")
        return storage.disk_rows(self.ctx.store)

    @audited_read(AuditAction.INVENTORY_LIST_ISO_ROWS)
    def list_iso_rows(self, *, actor: Actor) -> list[IsoRow]:
        require_superuser(actor, "see the ISO images")
        return storage.iso_rows(self.ctx.store, self._isos.list())

    # Events and jobs

    @audited_read(AuditAction.INVENTORY_SEARCH_EVENTS)
    def search_events(self, query: EventFilter, *, actor: Actor) -> list[EventRow]:
        """The events ``query`` finds, each with the names of its VM and host."""
        require_superuser(actor, "search the events")
        return events.event_rows(self.ctx.store, event_search.search(self.ctx.store.db, query))

    @audited_read(AuditAction.INVENTORY_LIST_JOBS)
    def list_jobs(self, *, actor: Actor, limit: int = 20) -> list[Job]:
        """Running jobs first, then the latest finished; a user sees their own only."""
        return jobs.recent_jobs(self.ctx.store, limit=limit,
                                owner=None if actor.superuser else actor.name)

    @audited_read(AuditAction.INVENTORY_GET_JOB)
    def get_job(self, job_id: str, *, actor: Actor) -> Job:
        job = self.ctx.store.jobs.find(job_id)
        if job is None or not (actor.superuser or job.owner == actor.name):
            raise NotFound(f"There is no job with id '{job_id}'.")  # someone else's too
        return job


__all__ = ["Dashboard", "DiskRow", "DomainRow", "EventRow", "HostLoad", "Inventory", "IsoRow",
           "NetworkRow", "NewVmChoices", "TemplateRow", "TreeDataCenter", "VmDetails", "VmQuery",
           "VmRow", "VmSort", "VmState"]
