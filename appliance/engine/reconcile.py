"""Reconcile the store with the hosts: libvirt is the truth about what runs, the store about
what should exist. Unknown domains and volumes are reported as events, never deleted.

libvirt's lifecycle events arrive late and may be stale (a shutdown event can be delivered
after the VM was started again), so an event is only a reason to look: the VM's status is
taken from the domain's state at the time of handling. Events are handled on a worker thread
of their own, in order, so libvirt's event loop never waits for the store.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import replace

import libvirt

from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskStatus, EventSeverity, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.vms import Vms
from appliance.vdsm.agent_interface import DomainState

log = logging.getLogger(__name__)

_STATUS = {
    DomainState.RUNNING: VmStatus.UP,
    DomainState.PAUSED: VmStatus.PAUSED,
    DomainState.SHUTTING_DOWN: VmStatus.POWERING_DOWN,
    DomainState.SUSPENDED: VmStatus.PAUSED,
}


# Statuses whose job, not the domain's events, decides what comes next: a migrating VM is on
# two hosts for a moment, a VM saving its state stops when the save is done (and the stop's
# event may come when it is suspended already).
_SETTLED_ELSEWHERE = (VmStatus.MIGRATING, VmStatus.SAVING_STATE, VmStatus.SUSPENDED)


class Reconciler:
    def __init__(self, ctx: EngineContext, vms: Vms) -> None:
        self.ctx = ctx
        self.vms = vms
        self._reported: set[str] = set()
        self._events: queue.Queue[tuple[str, str, int, int] | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        self._worker = threading.Thread(target=self._handle_events, name="lifecycle",
                                        daemon=True)
        self._worker.start()

    def stop(self) -> None:
        if self._worker is not None:
            self._events.put(None)
            self._worker.join(timeout=10)
            self._worker = None

    def drain(self) -> None:
        """Wait until every event received so far is handled (tests, shutdown)."""
        self._events.join()

    def all(self) -> None:
        for host_id in list(self.ctx.hosts.agents):
            self.host(host_id)
        self.storage()

    def host(self, host_id: str) -> None:
        agent = self.ctx.hosts.agent(host_id)
        running: set[str] = set()
        for domain in agent.domains():
            vm = self.ctx.store.vms.find(domain.uuid) if domain.ours else None
            if vm is None:
                self._report_once(f"domain:{domain.uuid}", EventCode.UNKNOWN_DOMAIN,
                                  f"libvirt runs domain '{domain.name}' ({domain.uuid}), which "
                                  "VirtStick does not manage; it was left alone.",
                                  host_id=host_id)
                continue
            running.add(vm.id)
            if vm.status in _SETTLED_ELSEWHERE:
                continue  # a migration or a suspend job settles it
            if domain.state in _STATUS:
                self.vms.mark_status(vm.id, _STATUS[domain.state], host_id=host_id)
        for vm in self.ctx.store.vms.where(host_id=host_id):
            if vm.id not in running and vm.status not in (VmStatus.DOWN, *_SETTLED_ELSEWHERE):
                self.vms.mark_down(vm.id, reason="found not running on its host")

    def storage(self) -> None:
        agent = self.ctx.hosts.any()
        for domain in self.ctx.store.storage_domains.all():
            on_disk = {(v.image_id, v.volume_id) for v in agent.storage_volumes(domain.id)}
            known = {(v.disk_id, v.id) for v in self.ctx.store.volumes.all()
                     if v.storage_domain_id == domain.id}
            for image_id, volume_id in sorted(on_disk - known):
                self._report_once(f"volume:{volume_id}", EventCode.UNKNOWN_VOLUME,
                                  f"Storage domain '{domain.name}' holds volume {volume_id} of "
                                  f"image {image_id}, which VirtStick does not know; it was "
                                  "left alone.", storage_domain_id=domain.id)
            for image_id, _volume_id in sorted(known - on_disk):
                disk = self.ctx.store.disks.find(image_id)
                if disk is not None and disk.status is not DiskStatus.ILLEGAL:
                    self.ctx.store.disks.update(replace(disk, status=DiskStatus.ILLEGAL))
                    self.ctx.events.record(
                        EventCode.VOLUME_MISSING, f"Disk '{disk.name}' lost a volume on "
                        f"storage domain '{domain.name}' and is marked illegal.",
                        severity=EventSeverity.ERROR, storage_domain_id=domain.id)

    def on_lifecycle(self, host_id: str, vm_id: str, event: int, detail: int) -> None:
        """Called by the host agents from libvirt's event loop: queue and return."""
        self._events.put((host_id, vm_id, event, detail))

    def _handle_events(self) -> None:
        while (item := self._events.get()) is not None:
            try:
                self._handle(*item)
            except Exception:
                log.exception("handling a lifecycle event failed")
            finally:
                self._events.task_done()
        self._events.task_done()

    def _handle(self, host_id: str, vm_id: str, event: int, detail: int) -> None:
        # Under the VM's lock: a state read before a stop() finished must not be written
        # after stop() marked the VM down (it would come back as up or powering down).
        with self.ctx.locks.hold(vm_id):
            self._handle_locked(host_id, vm_id, event, detail)

    def _handle_locked(self, host_id: str, vm_id: str, event: int, detail: int) -> None:
        vm = self.ctx.store.vms.find(vm_id)
        if vm is None or vm.status in _SETTLED_ELSEWHERE or host_id not in self.ctx.hosts.agents:
            return  # a migration's events on both hosts, a save's stop: their jobs settle them
        if vm.host_id not in (None, host_id):
            return  # e.g. the source side of a migration: the VM runs elsewhere now
        state = self.ctx.hosts.agent(host_id).domain_state(vm_id)
        if state is None or state in (DomainState.SHUTOFF, DomainState.CRASHED):
            self.vms.mark_down(vm_id, reason=_stop_reason(event, detail))
            return
        status = _STATUS[state]
        if vm.status is VmStatus.WAIT_FOR_LAUNCH:
            return  # start() is still launching it and sets the status itself
        self.vms.mark_status(vm_id, status, host_id=host_id)
        if (event == libvirt.VIR_DOMAIN_EVENT_SUSPENDED
                and detail == libvirt.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR):
            self.ctx.events.record(
                EventCode.VM_PAUSED_IO_ERROR, f"VM {vm.name} was paused: its storage failed or "
                "is full. It resumes when space is freed.",
                severity=EventSeverity.WARNING, vm_id=vm_id, host_id=host_id)

    def _report_once(self, key: str, code: EventCode, description: str, *,
                     host_id: str | None = None, storage_domain_id: str | None = None) -> None:
        if key in self._reported:
            return
        self._reported.add(key)
        self.ctx.events.record(code, description, severity=EventSeverity.WARNING,
                               host_id=host_id, storage_domain_id=storage_domain_id)


def _stop_reason(event: int, detail: int) -> str:
    """Why a VM whose domain is gone stopped, from whichever event made us look: the
    guest's own shutdown is usually reported (SHUTDOWN) before the domain stops (STOPPED)."""
    if event == libvirt.VIR_DOMAIN_EVENT_STOPPED:
        return _STOP_REASONS.get(detail, "stopped")
    if event == libvirt.VIR_DOMAIN_EVENT_SHUTDOWN:
        return "the guest shut down"
    if event == libvirt.VIR_DOMAIN_EVENT_CRASHED:
        return "the guest crashed"
    return "stopped"


_STOP_REASONS = {
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN: "the guest shut down",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED: "powered off",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_CRASHED: "the guest crashed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_FAILED: "QEMU failed",
    libvirt.VIR_DOMAIN_EVENT_STOPPED_SAVED: "saved",
}
