"""Thin provisioning: what each disk promises against what it uses, each domain's overcommit
against its limit, and the RAM domain's fill watched.

Disks are sparse qcow2 on a domain that may be tmpfs. When the domain fills, QEMU stops the
guest on its write error (the disks' ``error_policy=stop``) instead of handing the guest an
I/O error, so nothing is corrupted; the reconciler records why. This watcher warns as a
domain nears full or its overcommit limit, and resumes the VMs it paused once space is free.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

import libvirt

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Disk, StorageDomain
from appliance.engine.storage import Disks, StorageDomains
from appliance.engine.vms import Vms
from appliance.errors import HostAgentError, InvalidInput
from appliance.vdsm.agent_interface import DomainState

log = logging.getLogger(__name__)

LOW_SPACE_PERCENT = 5  # warn below this much free space
LOW_SPACE_FLOOR = 128 * 1024 * 1024  # ...or below this many bytes, whichever is more
RESUME_FREE = 64 * 1024 * 1024  # resume paused VMs once this much is free again
OVERCOMMIT_WARN = 0.9  # warn when the promises reach 90 % of the limit


@dataclass(frozen=True)
class DomainFill:
    domain_id: str
    name: str
    capacity: int
    used: int
    free: int
    committed: int  # sum of the disks' virtual sizes
    overcommit_percent: int  # the limit

    @property
    def overcommit_ratio(self) -> float:
        return self.committed / self.capacity if self.capacity else 0.0

    @property
    def low_on_space(self) -> bool:
        return self.free < max(self.capacity * LOW_SPACE_PERCENT // 100, LOW_SPACE_FLOOR)

    @property
    def near_overcommit_limit(self) -> bool:
        limit = self.capacity * self.overcommit_percent / 100
        return limit > 0 and self.committed >= limit * OVERCOMMIT_WARN


@dataclass(frozen=True)
class DiskFill:
    disk_id: str
    virtual: int
    actual: int

    @property
    def ratio(self) -> float:
        return self.actual / self.virtual if self.virtual else 0.0


class ThinProvisioning:
    def __init__(self, ctx: EngineContext, domains: StorageDomains, disks: Disks,
                 vms: Vms) -> None:
        self.ctx = ctx
        self.domains = domains
        self.disks = disks
        self.vms = vms
        self._warned: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # Queries

    def domain_fill(self, domain: StorageDomain) -> DomainFill:
        usage = self.domains.usage(domain)
        return DomainFill(domain.id, domain.name, usage.capacity, usage.used, usage.free,
                          usage.committed, domain.overcommit_percent)

    def disk_fill(self, disk: Disk) -> DiskFill:
        sizes = self.disks.sizes(disk)
        return DiskFill(disk.id, sizes.virtual, sizes.actual)

    @audited(AuditAction.THIN_SET_OVERCOMMIT)
    def set_overcommit(self, domain_id: str, percent: int, *, actor: Actor) -> StorageDomain:
        """The domain's limit: thin disks may promise ``percent`` % of its capacity (100 or
        less: no overcommit, every disk must fit in the free space)."""
        require_superuser(actor, "change storage limits")
        if not 10 <= percent <= 10000:
            raise InvalidInput(f"An overcommit limit of {percent}% makes no sense; use 10 to "
                               "10000.")
        domain = self.ctx.store.storage_domains.get(domain_id)
        return self.ctx.store.storage_domains.update(replace(domain, overcommit_percent=percent))

    # The watcher

    def start(self, interval: float = 2.0) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, args=(interval,), daemon=True,
                                        name="thin-watch")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def check(self) -> None:
        """One round: warn about full or overcommitted domains, resume VMs paused for space."""
        fills = {d.id: self.domain_fill(d) for d in self.ctx.store.storage_domains.all()}
        for fill in fills.values():
            self._warn(fill)
        for host_id, agent in list(self.ctx.hosts.agents.items()):
            try:
                domains = agent.domains()
            except HostAgentError as exc:  # the host monitor says so; the others go on
                log.debug("thin provisioning: host %s skipped: %s", host_id, exc.detail)
                continue
            for info in domains:
                if (info.ours and info.state is DomainState.PAUSED
                        and info.pause_reason == libvirt.VIR_DOMAIN_PAUSED_IOERROR):
                    self._maybe_resume(host_id, info.uuid, fills)

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.check()
            except Exception:  # the next round tries again; a watcher must not die
                log.exception("thin provisioning check failed")

    def _warn(self, fill: DomainFill) -> None:
        for key, condition, severity, (raised, cleared), text in (
            (f"low:{fill.domain_id}", fill.low_on_space, EventSeverity.WARNING,
             (EventCode.STORAGE_LOW, EventCode.STORAGE_LOW_CLEARED),
             f"Storage domain '{fill.name}' has {validation.human_size(fill.free)} free of "
             f"{validation.human_size(fill.capacity)}; VMs pause if it fills."),
            (f"overcommit:{fill.domain_id}", fill.near_overcommit_limit, EventSeverity.WARNING,
             (EventCode.STORAGE_OVERCOMMIT, EventCode.STORAGE_OVERCOMMIT_CLEARED),
             f"Storage domain '{fill.name}' promises {fill.overcommit_ratio:.0%} of its "
             f"capacity, near its limit of {fill.overcommit_percent}%."),
        ):
            if condition and key not in self._warned:
                self._warned.add(key)
                self.ctx.events.record(raised, text, severity=severity,
                                       storage_domain_id=fill.domain_id)
            elif not condition and key in self._warned:
                self._warned.discard(key)
                self.ctx.events.record(cleared,
                                       f"Storage domain '{fill.name}' is back within bounds "
                                       f"({validation.human_size(fill.free)} free).",
                                       storage_domain_id=fill.domain_id)

    def _maybe_resume(self, host_id: str, vm_id: str, fills: dict[str, DomainFill]) -> None:
        vm = self.ctx.store.vms.find(vm_id)
        if vm is None:
            return
        domains = {self.ctx.store.disks.get(a.disk_id).storage_domain_id
                   for a in self.ctx.store.attachments.where(vm_id=vm.id)}
        short = [fills[d] for d in domains if d in fills and fills[d].free < RESUME_FREE]
        if short:
            return
        with self.ctx.locks.hold(vm.id):
            self.ctx.hosts.agent(host_id).resume(vm.id)
            self.vms.mark_status(vm.id, VmStatus.UP, host_id=host_id)
        self.ctx.events.record(EventCode.VM_RESUMED_SPACE, f"VM {vm.name} was resumed: its storage "
                               "has free space again.", vm_id=vm.id, host_id=host_id)
