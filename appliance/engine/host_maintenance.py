"""Host maintenance: empty a host of its VMs, then report it in Maintenance; activate it back.

VMs go by live migration to the hosts the scheduler picks. A VM no other host can take is
shut down (or, where the policy says ``migrate``, the maintenance fails and the host stays
up); on a single-host appliance every VM is shut down, which is how maintenance works there.
Suspending to storage is not available yet.
"""

from __future__ import annotations

import time

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, HostStatus, MaintenancePolicy, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.hosts import HostService
from appliance.engine.jobs import JobContext
from appliance.engine.migration import Migrations
from appliance.engine.model import Host, Job, Vm
from appliance.engine.power import agent_for
from appliance.engine.vms import Vms
from appliance.errors import HostAgentError, InvalidInput, InvalidState, VirtStickError

SHUTDOWN_GRACE = 60.0  # seconds a guest has to power off before it is powered off


class HostMaintenance:
    def __init__(self, ctx: EngineContext, *, vms: Vms, hosts: HostService,
                 migrations: Migrations) -> None:
        self.ctx = ctx
        self.vms = vms
        self.hosts = hosts
        self.migrations = migrations

    @audited(AuditAction.HOST_MAINTENANCE_DEACTIVATE)
    def deactivate(self, host_id: str, *, actor: Actor,
                   policy: MaintenancePolicy | None = None, correlation_id: str = "") -> Job:
        require_superuser(actor, "move hosts to maintenance")
        chosen = _available(policy or self.ctx.config.hosts.maintenance_policy)
        with self.ctx.locks.hold(host_id):
            host = self.hosts.get(host_id)
            if host.status is HostStatus.MAINTENANCE:
                raise InvalidState(f"Host {host.name} is already in maintenance.")
            if host.status not in (HostStatus.UP, HostStatus.NON_OPERATIONAL):
                raise InvalidState(f"Host {host.name} is {host.status.value}; only a host "
                                   "that is up can go to maintenance.")
            self.hosts.set_status(host.id, HostStatus.PREPARING_FOR_MAINTENANCE)

        def work(job: JobContext) -> None:
            self._empty(job, host, chosen, actor)

        return self.ctx.jobs.run(f"Moving host {host.name} to maintenance", work,
                                 owner=actor.name, correlation_id=correlation_id,
                                 on_failure=lambda: self._back_up(host))

    @audited(AuditAction.HOST_MAINTENANCE_ACTIVATE)
    def activate(self, host_id: str, *, actor: Actor) -> Host:
        require_superuser(actor, "activate hosts")
        host = self.hosts.get(host_id)
        if host.status is HostStatus.UP:
            raise InvalidState(f"Host {host.name} is already up.")
        if host.standby or host.id not in self.ctx.hosts.agents:
            if host.standby or host.status is HostStatus.DOWN:
                power = agent_for(host, self.hosts.lab)
                if power is not None:
                    power.power_on(host)
            self.hosts.set_status(host.id, HostStatus.UP, standby=False)
            self.hosts.connect(self.hosts.get(host.id))
        else:
            self.hosts.set_status(host.id, HostStatus.UP)
        self.ctx.events.record(EventCode.HOST_ACTIVATED, f"Host {host.name} was activated by "
                               f"{actor.name}.", host_id=host.id, user=actor.name)
        return self.hosts.get(host.id)

    def _empty(self, job: JobContext, host: Host, policy: MaintenancePolicy,
               actor: Actor) -> None:
        running = self._running(host.id)
        for index, vm in enumerate(running):
            self._move_away(vm, policy, actor)
            job.progress(int(90 * (index + 1) / len(running)))
        deadline = time.monotonic() + SHUTDOWN_GRACE + 30
        while self._running(host.id):
            if time.monotonic() > deadline:
                raise HostAgentError(f"host {host.name} still runs VMs; maintenance stopped")
            time.sleep(0.5)
        self.hosts.set_status(host.id, HostStatus.MAINTENANCE)
        self.ctx.events.record(EventCode.HOST_MAINTENANCE, f"Host {host.name} is in maintenance.",
                               host_id=host.id, user=actor.name)

    def _move_away(self, vm: Vm, policy: MaintenancePolicy, actor: Actor) -> None:
        try:
            job = self.migrations.migrate(vm.id, actor=actor, reason="host maintenance")
        except VirtStickError as exc:
            if policy is MaintenancePolicy.MIGRATE:
                raise InvalidState(f"VM {vm.name} cannot be migrated ({exc.detail}); shut it "
                                   "down or choose the shutdown policy.") from None
            self._shut_down(vm, actor)
            return
        finished = self.ctx.jobs.wait(job.id)
        if finished.error:
            if policy is MaintenancePolicy.MIGRATE:
                raise InvalidState(f"VM {vm.name} could not be migrated: {finished.error}")
            self._shut_down(vm, actor)

    def _shut_down(self, vm: Vm, actor: Actor) -> None:
        self.vms.shutdown(vm.id, actor=actor)
        deadline = time.monotonic() + SHUTDOWN_GRACE
        while time.monotonic() < deadline:
            current = self.ctx.store.vms.find(vm.id)
            if current is None or current.status is VmStatus.DOWN:
                return
            time.sleep(0.5)
        self.vms.stop(vm.id, actor=actor)

    def _running(self, host_id: str) -> list[Vm]:
        return [v for v in self.ctx.store.vms.where(host_id=host_id) if v.status.is_running]

    def _back_up(self, host: Host) -> None:
        self.hosts.set_status(host.id, HostStatus.UP)
        self.ctx.events.record(EventCode.HOST_MAINTENANCE_FAILED, f"Host {host.name} could not be "
                               "emptied and stays up.", host_id=host.id,
                               severity=EventSeverity.ERROR)


def _available(chosen: MaintenancePolicy) -> MaintenancePolicy:
    if chosen is MaintenancePolicy.SUSPEND:
        raise InvalidInput("Suspending VMs for maintenance is not available yet; use "
                           "migrate or shutdown.")
    return chosen
