"""The engine's changes as they happen, for faces that show them live (the portals' streams):
a small publish/subscribe over VM and host records, jobs, events and statistics rounds.

The store's tables, the event log and the monitor publish in their own threads, and
publishing only files the change in each subscriber's bounded queue, so a slow subscriber
never slows the engine down. A queue keeps the latest state of each VM, host and job (older
states of the same object are worth nothing), the latest statistics round and the newest
events; a subscriber that fell behind on events is told so and reloads what it shows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from appliance.engine.model import Event, Host, Job, Vm
from appliance.engine.monitoring.measurements import Measurement

MAX_EVENTS = 200  # queued per subscriber; past it the oldest go and it is told so
MAX_OBJECTS = 5000  # latest states of VMs, hosts and jobs queued per subscriber


class ChangeKind(StrEnum):
    VM = "vm"
    HOST = "host"
    JOB = "job"
    EVENT = "event"
    SAMPLES = "samples"


@dataclass(frozen=True)
class Samples:
    """One monitoring round: every host, VM and storage domain measured in it."""

    measurements: tuple[Measurement, ...]


Subject = Vm | Host | Job | Event | Samples


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    subject: Subject
    removed: bool = False  # the VM, host or job is gone (subject: its last state)


@dataclass(frozen=True)
class Taken:
    """What a subscriber gets at once: the changes in the order they came (one per object),
    and whether some were dropped because it did not take them in time."""

    changes: tuple[Change, ...]
    lost: bool


class Subscription:
    """One subscriber's queue; ``wake`` is called (in the publisher's thread, so it must be
    quick) when the queue goes from empty to not empty."""

    def __init__(self, feed: ChangeFeed, kinds: frozenset[ChangeKind],
                 wake: Callable[[], None] | None) -> None:
        self.kinds = kinds
        self._feed = feed
        self._wake = wake
        self._lock = threading.Lock()
        self._objects: OrderedDict[tuple[ChangeKind, str], Change] = OrderedDict()
        self._events: deque[Change] = deque()
        self._samples: Change | None = None
        self._lost = False
        self.closed = False

    def offer(self, change: Change) -> None:
        if change.kind not in self.kinds or self.closed:
            return
        with self._lock:
            was_empty = self._empty()
            if change.kind is ChangeKind.EVENT:
                self._events.append(change)
                if len(self._events) > MAX_EVENTS:
                    self._events.popleft()
                    self._lost = True
            elif change.kind is ChangeKind.SAMPLES:
                self._samples = change
            else:
                key = (change.kind, _object_id(change.subject))
                self._objects.pop(key, None)  # to the end: the order is the latest change's
                self._objects[key] = change
                if len(self._objects) > MAX_OBJECTS:
                    self._objects.popitem(last=False)
                    self._lost = True
        if was_empty and self._wake is not None:
            self._wake()

    def take(self) -> Taken:
        with self._lock:
            changes = [*self._objects.values(), *self._events]
            if self._samples is not None:
                changes.append(self._samples)
            lost = self._lost
            self._objects.clear()
            self._events.clear()
            self._samples, self._lost = None, False
        return Taken(tuple(changes), lost)

    @property
    def pending(self) -> bool:
        with self._lock:
            return not self._empty()

    def close(self) -> None:
        self.closed = True
        self._feed.unsubscribe(self)

    def _empty(self) -> bool:
        return not (self._objects or self._events or self._samples is not None)


class ChangeFeed:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: tuple[Subscription, ...] = ()

    def subscribe(self, kinds: frozenset[ChangeKind], *,
                  wake: Callable[[], None] | None = None) -> Subscription:
        subscription = Subscription(self, kinds, wake)
        with self._lock:
            self._subscriptions = (*self._subscriptions, subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions = tuple(s for s in self._subscriptions if s is not subscription)

    @property
    def subscribers(self) -> int:
        return len(self._subscriptions)

    def publish(self, change: Change) -> None:
        for subscription in self._subscriptions:  # a tuple: subscribing meanwhile is safe
            subscription.offer(change)

    # The publishers' hooks, typed for each source

    def vm_changed(self, vm: Vm, removed: bool) -> None:
        self.publish(Change(ChangeKind.VM, vm, removed))

    def host_changed(self, host: Host, removed: bool) -> None:
        self.publish(Change(ChangeKind.HOST, host, removed))

    def job_changed(self, job: Job, removed: bool) -> None:
        self.publish(Change(ChangeKind.JOB, job, removed))

    def event_recorded(self, event: Event) -> None:
        self.publish(Change(ChangeKind.EVENT, event))

    def sampled(self, measurements: list[Measurement]) -> None:
        if self._subscriptions:
            self.publish(Change(ChangeKind.SAMPLES, Samples(tuple(measurements))))


def _object_id(subject: Subject) -> str:
    if isinstance(subject, Event):
        return str(subject.id)
    if isinstance(subject, Samples):
        return ""
    return subject.id
