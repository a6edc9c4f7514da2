"""High availability: watch the hosts, fence the ones that stop answering, restart HA VMs.

A VM marked highly available is started again when its QEMU died (crashed, killed) or its
host failed; never while it might still run: the VMs of a host that stops answering turn
``unknown`` and are only marked down, and restarted elsewhere, once the host is fenced
(its power cut, confirmed by its power agent; a lab host's namespaces are killed). A host
without a power agent keeps its VMs ``unknown`` until it answers again or an administrator
removes it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, HostStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.hosts import HOST_FAILED, HostService
from appliance.engine.model import Host
from appliance.engine.power import agent_for
from appliance.engine.vms import Vms
from appliance.errors import VirtStickError

log = logging.getLogger(__name__)

SOFT_FENCE_GRACE = 30.0  # seconds a soft-fenced host has to answer again (slow when busy)
# Why a VM went down that calls for a restart (the reconciler's and the fencer's words).
RESTART_REASONS = frozenset({"QEMU failed", "the guest crashed", "found not running on its host",
                             HOST_FAILED})
_WATCHED = (HostStatus.UP, HostStatus.PREPARING_FOR_MAINTENANCE, HostStatus.MAINTENANCE,
            HostStatus.NON_RESPONSIVE)


class HighAvailability:
    def __init__(self, ctx: EngineContext, *, vms: Vms, hosts: HostService) -> None:
        self.ctx = ctx
        self.vms = vms
        self.hosts = hosts
        self._unreachable_since: dict[str, float] = {}
        self._restarted: dict[str, float] = {}  # vm id -> stop time already handled
        self._warned: set[tuple[str, str]] = set()
        self._soft_fenced: set[str] = set()  # hosts whose daemons were restarted this time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="ha-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.ctx.config.hosts.monitor_interval):
            try:
                self.check_hosts()
                self.restart_vms()
            except Exception:
                log.exception("the HA monitor failed a round")

    # Hosts

    def check_hosts(self) -> None:
        for host in self.ctx.store.hosts.all():
            if host.standby or host.status not in _WATCHED:
                continue
            agent = self.ctx.hosts.agents.get(host.id)
            if agent is not None and agent.reachable:
                self._unreachable_since.pop(host.id, None)
                self._warned = {w for w in self._warned if w[0] != host.id}
                self._soft_fenced.discard(host.id)
                if host.status is HostStatus.NON_RESPONSIVE:
                    self.hosts.set_status(host.id, HostStatus.UP)
                    self.ctx.events.record(EventCode.HOST_UP, f"Host {host.name} answers again.",
                                           host_id=host.id)
                continue
            if agent is None and host.status is HostStatus.NON_RESPONSIVE:
                continue  # fenced or never connected: nothing runs there any more
            since = self._unreachable_since.setdefault(host.id, time.monotonic())
            if time.monotonic() - since >= self.ctx.config.hosts.fence_after:
                self._host_failed(host)

    def _host_failed(self, host: Host) -> None:
        if host.status is not HostStatus.NON_RESPONSIVE:
            self.hosts.set_status(host.id, HostStatus.NON_RESPONSIVE)
            self.ctx.events.record(EventCode.HOST_NON_RESPONSIVE, f"Host {host.name} does not "
                                   "answer.", host_id=host.id, severity=EventSeverity.ERROR)
        running = [v for v in self.ctx.store.vms.where(host_id=host.id)
                   if v.status is not VmStatus.DOWN]
        for vm in running:
            if vm.status is not VmStatus.UNKNOWN:
                self.ctx.store.vms.update(replace(vm, status=VmStatus.UNKNOWN))
        power = agent_for(host, self.hosts.lab)
        if power is not None and host.id not in self._soft_fenced:
            self._soft_fenced.add(host.id)
            if power.soft_fence(host):
                # The daemons are back: give libvirtd time to find its QEMUs again and the
                # connection time to come back before cutting the power.
                self._unreachable_since[host.id] = time.monotonic() + SOFT_FENCE_GRACE
                self.ctx.events.record(EventCode.HOST_SOFT_FENCED, f"Host {host.name}: its libvirt "
                                       "daemons were restarted.", host_id=host.id,
                                       severity=EventSeverity.WARNING)
                return
        if power is None:
            if running:
                self._warn_once(
                    host, EventCode.HOST_NOT_FENCED, f"Host {host.name} cannot be fenced "
                    "(no power management): its VMs stay unknown and are not "
                    "restarted elsewhere until it answers again.")
            return
        try:
            power.fence(host)
        except VirtStickError as exc:
            self._warn_once(host, EventCode.HOST_FENCE_FAILED, f"Fencing host {host.name} failed: "
                            f"{exc.detail}; its VMs are not restarted elsewhere.")
            return
        self.hosts.disconnect(host.id)
        self._unreachable_since.pop(host.id, None)
        self._soft_fenced.discard(host.id)
        self.ctx.events.record(EventCode.HOST_FENCED, f"Host {host.name} was fenced.",
                               host_id=host.id, severity=EventSeverity.WARNING)
        for vm in running:
            self.vms.mark_down(vm.id, reason=HOST_FAILED)

    @audited(AuditAction.HA_FENCE)
    def fence(self, host_id: str, *, actor: Actor) -> Host:
        """Cut a host's power on request: ``HostService.fence`` (kept here for the portal)."""
        return self.hosts.fence(host_id, actor=actor)

    def _warn_once(self, host: Host, code: EventCode, text: str) -> None:
        if (host.id, code) in self._warned:
            return
        self._warned.add((host.id, code))
        self.ctx.events.record(code, text, host_id=host.id, severity=EventSeverity.ERROR)

    # VMs

    def restart_vms(self) -> None:
        for vm in self.ctx.store.vms.where(status=VmStatus.DOWN):
            if not vm.high_availability or vm.stop_reason not in RESTART_REASONS:
                continue
            if self._restarted.get(vm.id) == vm.stop_time:
                continue
            try:
                self.vms.start(vm.id, actor=SYSTEM)
            except VirtStickError as exc:
                log.info("HA restart of %s waits: %s", vm.name, exc.detail)
                continue  # no host for it yet: tried again next round
            self._restarted[vm.id] = vm.stop_time
            self.ctx.events.record(EventCode.VM_HA_RESTARTED, f"Highly available VM {vm.name} was "
                                   f"restarted ({vm.stop_reason}).", vm_id=vm.id,
                                   severity=EventSeverity.WARNING)
