"""Live updates for the faces: the engine's changes (see ``changes``) as read models, each
batch limited to what the subscriber may see.

A SuperUser sees everything; another user sees the VMs they may use, their own jobs, the
events of their VMs and their VMs' statistics, never hosts or storage. Filtering happens when
the subscriber takes a batch (in its own thread), not when the engine publishes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.engine.audit import filtered_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, can_use_vm
from appliance.engine.changes import ChangeFeed, ChangeKind, Samples, Subscription
from appliance.engine.context import EngineContext
from appliance.engine.inventory.vms import VmState
from appliance.engine.model import Event, Host, Job, Vm
from appliance.engine.monitoring.measurements import Measurement, ObjectKind


@dataclass(frozen=True)
class EventNote:
    """An event with the name of its VM (the VM may be gone: the name is kept at the time)."""

    event: Event
    vm_name: str
    host_name: str = ""


@dataclass(frozen=True)
class LiveBatch:
    vms: tuple[VmState, ...]
    removed_vms: tuple[str, ...]  # ids
    hosts: tuple[Host, ...]
    jobs: tuple[Job, ...]
    events: tuple[EventNote, ...]  # oldest first
    samples: tuple[Measurement, ...]
    lost: bool  # some changes were dropped: reload what is shown


class LiveFeed:
    """One face's subscription (one open page): ``take`` the batch when woken."""

    def __init__(self, ctx: EngineContext, subscription: Subscription, actor: Actor) -> None:
        self._ctx = ctx
        self._subscription = subscription
        self._actor = actor
        self._vm_names: dict[str, str] = {}

    @property
    def pending(self) -> bool:
        return self._subscription.pending

    def close(self) -> None:
        self._subscription.close()

    def take(self) -> LiveBatch:
        taken = self._subscription.take()
        vms: list[Vm] = []
        removed: list[str] = []
        hosts: list[Host] = []
        jobs: list[Job] = []
        events: list[Event] = []
        samples: tuple[Measurement, ...] = ()
        for change in taken.changes:
            subject = change.subject
            if isinstance(subject, Vm) and can_use_vm(self._actor, subject):
                self._vm_names[subject.id] = subject.name
                if change.removed:
                    removed.append(subject.id)
                else:
                    vms.append(subject)
            elif isinstance(subject, Host) and self._actor.superuser:
                hosts.append(subject)
            elif isinstance(subject, Job) and self._may_see_job(subject):
                jobs.append(subject)
            elif isinstance(subject, Event) and self._may_see_event(subject):
                events.append(subject)
            elif isinstance(subject, Samples):
                samples = tuple(m for m in subject.measurements if self._may_see_sample(m))
        return LiveBatch(vms=tuple(self._states(vms)), removed_vms=tuple(removed),
                         hosts=tuple(hosts), jobs=tuple(jobs),
                         events=tuple(EventNote(e, self._vm_name(e.vm_id),
                                                self._host_name(e.host_id)) for e in events),
                         samples=samples, lost=taken.lost)

    def _states(self, vms: list[Vm]) -> list[VmState]:
        if not vms:
            return []
        hosts = {h.id: h.name for h in self._ctx.store.hosts.all()}
        return [VmState(id=v.id, name=v.name, status=v.status,
                        host_name=hosts.get(v.host_id or "", "")) for v in vms]

    def _may_see_job(self, job: Job) -> bool:
        return self._actor.superuser or job.owner == self._actor.name

    def _may_see_event(self, event: Event) -> bool:
        if self._actor.superuser:
            return True
        return event.vm_id is not None and self._vm_visible(event.vm_id)

    def _may_see_sample(self, measurement: Measurement) -> bool:
        if self._actor.superuser:
            return True
        return measurement.kind is ObjectKind.VM and self._vm_visible(measurement.object_id)

    def _vm_visible(self, vm_id: str) -> bool:
        vm = self._ctx.store.vms.find(vm_id)
        if vm is not None:
            self._vm_names[vm.id] = vm.name
        return vm is not None and can_use_vm(self._actor, vm)

    def _host_name(self, host_id: str | None) -> str:
        found = self._ctx.store.hosts.find(host_id) if host_id else None
        return found.name if found is not None else ""

    def _vm_name(self, vm_id: str | None) -> str:
        if vm_id is None:
            return ""
        if vm_id not in self._vm_names:
            vm = self._ctx.store.vms.find(vm_id)
            self._vm_names[vm_id] = vm.name if vm is not None else ""
        return self._vm_names[vm_id]


class LiveUpdates:
    def __init__(self, ctx: EngineContext, feed: ChangeFeed) -> None:
        self.ctx = ctx
        self.feed = feed

    @filtered_read(AuditAction.LIVE_SUBSCRIBE)
    def subscribe(self, *, actor: Actor, kinds: frozenset[ChangeKind],
                  wake: Callable[[], None] | None = None) -> LiveFeed:
        """A subscription to the changes of ``kinds`` that ``actor`` may see; ``wake`` is
        called, quickly and in any thread, when changes wait to be taken. Close it when the
        page goes."""
        return LiveFeed(self.ctx, self.feed.subscribe(kinds, wake=wake), actor)


__all__ = ["ChangeKind", "EventNote", "LiveBatch", "LiveFeed", "LiveUpdates"]
