"""Live migration of VMs between hosts: a job with progress, cancel, and clear refusals.

The VM is ``migrating`` while it runs; it stays on its source host in the store until the
target has it, so a failed or cancelled migration leaves it where it was. The target's
memory is reserved from the start, so placement meanwhile counts it as taken.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.hosts import HostService
from appliance.engine.jobs import JobContext
from appliance.engine.model import Host, Job, Vm
from appliance.engine.scheduling import Scheduler
from appliance.engine.vms import Vms
from appliance.errors import HostAgentError, InvalidState, NotSupported

PROGRESS_INTERVAL = 0.5


@dataclass(frozen=True)
class MigrationResult:
    vm_id: str
    source_id: str
    target_id: str
    seconds: float
    downtime_ms: int


class Migrations:
    def __init__(self, ctx: EngineContext, *, vms: Vms, hosts: HostService,
                 scheduler: Scheduler) -> None:
        self.ctx = ctx
        self.vms = vms
        self.hosts = hosts
        self.scheduler = scheduler
        self._running: dict[str, str] = {}  # vm id -> source host id
        self._guard = threading.Lock()
        self.results: dict[str, MigrationResult] = {}  # last result by VM, for figures

    @audited(AuditAction.MIGRATION_MIGRATE)
    def migrate(self, vm_id: str, *, actor: Actor, host_id: str | None = None,
                correlation_id: str = "", reason: str = "", bandwidth_mib: int = 0) -> Job:
        """Start moving a running VM to ``host_id`` (or the scheduler's choice);
        ``bandwidth_mib``: MiB/s at most (0: as fast as the network goes)."""
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "migrate")
            if vm.status is not VmStatus.UP or vm.host_id is None:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; only a VM that is "
                                   "up can be migrated.")
            source = self.ctx.store.hosts.get(vm.host_id)
            target_id = host_id or self.scheduler.pick_host(vm, exclude=frozenset({source.id}))
            if target_id == source.id:
                raise InvalidState(f"VM '{vm.name}' already runs on host {source.name}.")
            self.scheduler.check_target(vm, target_id)
            target = self.ctx.store.hosts.get(target_id)
            address = self.hosts.migration_address(target)
            if not address:
                raise NotSupported(f"Host {target.name} cannot receive migrations: it has "
                                   "no address on a network the other hosts reach.")
            self.vms.mark_status(vm.id, VmStatus.MIGRATING, host_id=source.id)
            with self._guard:
                self._running[vm.id] = source.id
        description = f"Migrating VM {vm.name} from {source.name} to {target.name}"

        def work(job: JobContext) -> None:
            self._run(job, vm, source, target, address, actor, reason, bandwidth_mib)

        return self.ctx.jobs.run(description, work, owner=actor.name,
                                 correlation_id=correlation_id, vm_id=vm.id)

    @audited(AuditAction.MIGRATION_CANCEL)
    def cancel(self, vm_id: str, *, actor: Actor) -> None:
        vm = self.vms.get(vm_id, actor=actor)
        require_vm(actor, vm, "cancel the migration of")
        with self._guard:
            source_id = self._running.get(vm_id)
        if source_id is None:
            raise InvalidState(f"VM '{vm.name}' is not migrating.")
        self.ctx.hosts.agent(source_id).abort_migration(vm_id)
        self.ctx.events.record(EventCode.VM_MIGRATION_CANCEL, f"Migration of VM {vm.name} was "
                               f"cancelled by {actor.name}.", vm_id=vm_id, user=actor.name)

    def migrating(self, vm_id: str) -> bool:
        with self._guard:
            return vm_id in self._running

    def _run(self, job: JobContext, vm: Vm, source: Host, target: Host, address: str,
             actor: Actor, reason: str, bandwidth_mib: int) -> None:
        started = time.monotonic()
        done = threading.Event()
        reporter = threading.Thread(target=self._report_progress, args=(job, vm.id, source.id,
                                                                       done), daemon=True)
        try:
            with self.scheduler.reserve(target.id, vm.memory):
                reporter.start()
                self.ctx.hosts.agent(source.id).migrate(
                    vm.id, peer_uri=self.hosts.peer_uri(source, target),
                    migrate_uri=f"tcp://{address}", bandwidth_mib=bandwidth_mib)
        except Exception as exc:
            done.set()
            self._failed(vm, source, exc)
            raise
        finally:
            done.set()
            with self._guard:
                self._running.pop(vm.id, None)
        seconds = time.monotonic() - started
        downtime = self._downtime(vm.id, target.id)
        with self.ctx.locks.hold(vm.id):
            current = self.ctx.store.vms.get(vm.id)
            self.ctx.store.vms.update(replace(current, status=VmStatus.UP, host_id=target.id))
        self.results[vm.id] = MigrationResult(vm.id, source.id, target.id, seconds, downtime)
        why = f" ({reason})" if reason else ""
        self.ctx.events.record(
            EventCode.VM_MIGRATED, f"VM {vm.name} migrated from {source.name} to "
            f"{target.name}{why} in {seconds:.1f} s (downtime {downtime} ms), requested by "
            f"{actor.name}.",
            vm_id=vm.id, host_id=target.id, user=actor.name)

    def _failed(self, vm: Vm, source: Host, exc: Exception) -> None:
        """The VM stays where it was; if it is gone there too, the reconciler says so."""
        with self.ctx.locks.hold(vm.id):
            current = self.ctx.store.vms.find(vm.id)
            if current is not None and current.status is VmStatus.MIGRATING:
                self.ctx.store.vms.update(replace(current, status=VmStatus.UP,
                                                  host_id=source.id))
        self.ctx.events.record(EventCode.VM_MIGRATION_FAILED, f"Migration of VM {vm.name} failed: "
                               f"{getattr(exc, 'detail', exc)}", vm_id=vm.id,
                               severity=EventSeverity.WARNING)

    def _downtime(self, vm_id: str, target_id: str) -> int:
        try:
            return self.ctx.hosts.agent(target_id).last_migration_downtime_ms(vm_id)
        except HostAgentError:
            return 0

    def _report_progress(self, job: JobContext, vm_id: str, source_id: str,
                         done: threading.Event) -> None:
        while not done.wait(PROGRESS_INTERVAL):
            try:
                progress = self.ctx.hosts.agent(source_id).migration_progress(vm_id)
            except HostAgentError:
                continue
            if progress is not None:
                job.progress(progress.percent)
