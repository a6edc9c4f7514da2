"""The pages' live streams: one per open page, fed by the engine's live updates, all served
by one pump thread, bounded per session, per address and in all.

A stream holds no worker thread of waitress (``appliance.push``): the pump wakes when the
engine has changes for any page (or a heartbeat is due), turns them into server-sent events
and hands the bytes to the stream's sink. Each heartbeat also looks at the session: once it
has ended (logout, idle time, revoked, user removed) the stream says so and ends, and when
the user's roles changed it ends so the page reconnects with what they may now see.
Browsers hold six connections per site over HTTP/1.1; a session's streams are bounded
below that, so a user with many tabs still gets pages (the extra tabs poll).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from appliance.config import HttpSection
from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.live import ChangeKind, LiveBatch, LiveFeed
from appliance.errors import NotAuthenticated, NotFound, TooManyStreams
from webui import live_messages as messages

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0  # well inside the connections' idle timeout (15 s)
DASHBOARD_SECONDS = 1.0  # counts again at most this often, however busy the lab is
BLOCKING_STREAM_SECONDS = 25.0  # a stream served in a thread of its own (no hand-over)
BLOCKING_STREAMS = 2  # such streams at once: each holds a worker thread


class LiveTopic(StrEnum):
    """What a page shows live; it names them in the stream's ``topics``."""

    VMS = "vms"  # VM statuses and hosts
    JOBS = "jobs"  # the tasks panel, the jobs page
    EVENTS = "events"  # event cards and lists
    DASHBOARD = "dashboard"  # the dashboard's counts and storage totals
    SAMPLES = "samples"  # statistics of the watched objects (charts)

    @property
    def kinds(self) -> frozenset[ChangeKind]:
        return _KINDS[self]


_KINDS = {
    LiveTopic.VMS: frozenset({ChangeKind.VM}),
    LiveTopic.JOBS: frozenset({ChangeKind.JOB}),
    LiveTopic.EVENTS: frozenset({ChangeKind.EVENT}),
    LiveTopic.DASHBOARD: frozenset({ChangeKind.VM, ChangeKind.HOST, ChangeKind.SAMPLES}),
    LiveTopic.SAMPLES: frozenset({ChangeKind.SAMPLES}),
}


@dataclass(frozen=True)
class StreamLimits:
    total: int = 200
    per_address: int = 16
    per_session: int = 4  # of a browser's six connections per site

    @classmethod
    def from_config(cls, http: HttpSection) -> StreamLimits:
        """Half of the connections a listener and an address may hold, so streams never
        keep an address's own requests out."""
        return cls(total=max(1, http.max_connections // 2),
                   per_address=max(1, http.max_connections_per_address // 2))


class Sink(Protocol):
    def send(self, data: bytes) -> bool: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PageAsks:
    topics: frozenset[LiveTopic]
    watched: frozenset[str]  # object ids whose statistics the page draws


class PageStream:
    """One open page's stream (an ``appliance.push.Pusher``)."""

    def __init__(self, pump: LivePump, feed: LiveFeed, *, who: Actor, token: str,
                 address: str, asks: PageAsks) -> None:
        self.id = secrets.token_hex(6)
        self.pump = pump
        self.feed = feed
        self.who = who
        self.token = token
        self.address = address
        self.asks = asks
        self.sink: Sink | None = None
        self.gone = False
        now = time.monotonic()
        self.next_heartbeat = now + HEARTBEAT_SECONDS
        self.dashboard_due = False
        self.dashboard_after = now

    # Pusher

    def attached(self, sink: Sink) -> None:
        self.sink = sink
        self.pump.wake()

    def detached(self) -> None:
        self.gone = True
        self.pump.wake()

    def send(self, data: bytes) -> None:
        if self.sink is not None and not self.sink.send(data):
            self.gone = True

    def end(self, reason: str, *, final: bool) -> None:
        self.send(messages.ended(reason, final=final))
        if self.sink is not None:
            self.sink.close()
        self.gone = True


class LivePump:
    def __init__(self, engine: Engine, limits: StreamLimits) -> None:
        self.engine = engine
        self.limits = limits
        self._lock = threading.Lock()
        self._woken = threading.Condition(self._lock)
        self._streams: dict[str, PageStream] = {}
        self._blocking = threading.BoundedSemaphore(BLOCKING_STREAMS)
        self._stopping = False
        # Started by the first stream: an app that never streams (tests' clients) has none.
        self._thread = threading.Thread(target=self._run, name="live-pump", daemon=True)

    def open(self, *, who: Actor, token: str, address: str, asks: PageAsks) -> PageStream:
        """A new page's stream, counted against the limits until it is gone."""
        with self._lock:
            streams = list(self._streams.values())
            if len(streams) >= self.limits.total:
                raise TooManyStreams("The service shows as many live pages as it can; "
                                     "this page refreshes every few seconds instead.")
            if sum(1 for s in streams if s.address == address) >= self.limits.per_address:
                raise TooManyStreams("Your address has as many live pages open as it may; "
                                     "this page refreshes every few seconds instead.")
            if sum(1 for s in streams if s.token == token) >= self.limits.per_session:
                raise TooManyStreams("This session has as many live pages open as it may "
                                     "(close a tab); this page refreshes every few seconds "
                                     "instead.")
            if not self._thread.is_alive() and not self._stopping:
                self._thread.start()
            kinds = frozenset(k for topic in asks.topics for k in topic.kinds)
            feed = self.engine.live.subscribe(actor=who, kinds=kinds, wake=self.wake)
            stream = PageStream(self, feed, who=who, token=token, address=address, asks=asks)
            self._streams[stream.id] = stream
        return stream

    def blocking_body(self, stream: PageStream) -> Iterator[bytes]:
        """The stream as a response body that holds its thread (no hand-over here), for
        ``BLOCKING_STREAM_SECONDS``; the browser reconnects when it ends."""
        if not self._blocking.acquire(blocking=False):
            self._forget(stream)
            raise TooManyStreams("This server cannot hold more live pages; this page "
                                 "refreshes every few seconds instead.")
        return self._blocking_body(stream)

    def _blocking_body(self, stream: PageStream) -> Iterator[bytes]:
        sink = _QueueSink()
        try:
            yield messages.opening(stream.id)
            stream.attached(sink)
            deadline = time.monotonic() + BLOCKING_STREAM_SECONDS
            while not stream.gone and (left := deadline - time.monotonic()) > 0:
                try:
                    data = sink.chunks.get(timeout=min(left, HEARTBEAT_SECONDS))
                except queue.Empty:
                    continue
                if data is None:
                    return
                yield data
        finally:
            stream.gone = True
            self._blocking.release()
            self.wake()

    def wake(self) -> None:
        with self._woken:
            self._woken.notify()

    def end_session(self, token: str) -> None:
        """At logout: that session's pages stop at once."""
        for stream in list(self._streams.values()):
            if stream.token == token:
                stream.end("You have logged out.", final=True)
        self.wake()

    def stop(self) -> None:
        with self._woken:
            self._stopping = True
            self._woken.notify()
        for stream in list(self._streams.values()):
            stream.end("The service is stopping.", final=False)
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._woken:
                if self._stopping:
                    return
                self._woken.wait(timeout=self._until_due())
            for stream in list(self._streams.values()):
                try:
                    self._service(stream, time.monotonic())
                except Exception:
                    log.exception("live stream %s failed", stream.id)
                    stream.gone = True
                if stream.gone:
                    self._forget(stream)

    def _until_due(self) -> float:
        soonest = min((min(s.next_heartbeat, s.dashboard_after if s.dashboard_due
                           else s.next_heartbeat) for s in self._streams.values()),
                      default=time.monotonic() + HEARTBEAT_SECONDS)
        return max(0.0, soonest - time.monotonic())

    def _forget(self, stream: PageStream) -> None:
        with self._lock:
            self._streams.pop(stream.id, None)
        stream.feed.close()

    def _service(self, stream: PageStream, now: float) -> None:
        if stream.gone or stream.sink is None:
            return
        if stream.feed.pending:
            for message in self._messages(stream, stream.feed.take()):
                stream.send(message.encode())
        if stream.dashboard_due and now >= stream.dashboard_after:
            stream.dashboard_due = False
            stream.dashboard_after = now + DASHBOARD_SECONDS
            board = self.engine.inventory.get_dashboard_totals(actor=stream.who)
            stream.send(messages.dashboard(board).encode())
        if now >= stream.next_heartbeat:
            stream.next_heartbeat = now + HEARTBEAT_SECONDS
            if self._session_holds(stream):
                stream.send(messages.HEARTBEAT)

    def _messages(self, stream: PageStream, batch: LiveBatch) -> list[messages.Message]:
        topics = stream.asks.topics
        found: list[messages.Message] = []
        if batch.lost:
            found.append(messages.Message("resync", {}))
        if LiveTopic.VMS in topics:
            found += [messages.vm(state) for state in batch.vms]
            found += [messages.vm_removed(vm_id) for vm_id in batch.removed_vms]
        if LiveTopic.JOBS in topics:
            found += [messages.job(job) for job in batch.jobs]
        if LiveTopic.EVENTS in topics:
            found += [messages.event(note) for note in batch.events]
        if LiveTopic.DASHBOARD in topics:
            stream.dashboard_due |= bool(batch.vms or batch.removed_vms or batch.hosts)
            totals = messages.storage(batch.samples)
            if totals is not None:
                found.append(totals)
        if LiveTopic.SAMPLES in topics and stream.asks.watched:
            drawn = messages.samples(batch.samples, stream.asks.watched)
            if drawn is not None:
                found.append(drawn)
        return found

    def _session_holds(self, stream: PageStream) -> bool:
        """Whether the page's session is still alive and its user's roles the same."""
        users = self.engine.users
        try:
            alive = users.token_expiry(stream.token) > time.time()
            fresh = users.actor(stream.who.user_id) if alive else None
        except (NotAuthenticated, NotFound):
            alive, fresh = False, None
        if fresh is None:
            stream.end("Your session has ended: log in again.", final=True)
            return False
        if (fresh.superuser, fresh.granted) != (stream.who.superuser, stream.who.granted):
            stream.end("Your permissions changed.", final=False)
            return False
        return True


class _QueueSink:
    """A sink for a stream served in its own thread: the thread takes what the pump sends."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=256)
        self.closed = False

    def send(self, data: bytes) -> bool:
        if self.closed:
            return False
        try:
            self.chunks.put_nowait(data)
        except queue.Full:
            self.close()
            return False
        return True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(queue.Full):  # the reader stops at its deadline
                self.chunks.put_nowait(None)
