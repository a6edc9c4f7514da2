"""Long-lived responses that hold no worker thread: a WSGI app streaming to a browser
(server-sent events) hands the rest of its response to waitress's event loop.

waitress runs each request in one of a few worker threads until its body is written, so a
stream held open by every open page would take them all. Instead the app finds a hand-over
function in the environ under ``PUSH_KEY``, calls it with its ``Pusher`` and returns the
response's head and first bytes as usual. Once those are out, the worker goes back to the
pool, the connection stays open, and the pusher gets a ``PushSink``: what it sends from any
thread is queued for the event loop, which writes it (chunked) as the socket takes it. A
client that does not read loses its stream once ``MAX_BACKLOG`` bytes wait; one that goes
away is noticed by the loop (``Pusher.detached``). Apps served elsewhere (tests' clients,
other servers) find no hand-over and stream in their own thread, for a bounded time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

PUSH_KEY = "virtstick.push"
MAX_BACKLOG = 256 * 1024  # bytes queued for a client before its stream is dropped

HandOver = Callable[["Pusher"], None]


class Pusher(Protocol):
    def attached(self, sink: PushSink) -> None:
        """The response's head went out: send the rest through ``sink`` from now on."""

    def detached(self) -> None:
        """The connection is gone (the client left, or the sink was closed)."""


class PushSink:
    """The event loop's side of one pushed response; ``send`` and ``close`` are safe from
    any thread. ``wake`` wakes the event loop (waitress's trigger)."""

    def __init__(self, *, chunked: bool, wake: Callable[[], None],
                 backlog: Callable[[], int]) -> None:
        self._chunked = chunked
        self._wake = wake
        self._backlog = backlog  # bytes the channel holds unsent
        self._lock = threading.Lock()
        self._queued: list[bytes] = []
        self._queued_bytes = 0
        self.ending = False  # closed by the pusher: finish the response once flushed
        self.gone = False  # the connection closed

    def send(self, data: bytes) -> bool:
        """Queue ``data``; False when the stream is over (closed, gone, or the client let
        ``MAX_BACKLOG`` bytes pile up: then it is closed)."""
        if not data:
            return not (self.ending or self.gone)
        with self._lock:
            if self.ending or self.gone:
                return False
            if self._queued_bytes + self._backlog() + len(data) > MAX_BACKLOG:
                self.ending = True
                self._queued.append(self._frame(b"") if self._chunked else b"")
            else:
                self._queued.append(self._frame(data))
                self._queued_bytes += len(data)
        self._wake()
        return not self.ending

    def close(self) -> None:
        """End the response (its last chunk) and the connection once it is written."""
        with self._lock:
            if self.ending or self.gone:
                return
            self.ending = True
            if self._chunked:
                self._queued.append(self._frame(b""))
        self._wake()

    def take(self) -> bytes:
        """For the event loop: what to write now."""
        with self._lock:
            data = b"".join(self._queued)
            self._queued.clear()
            self._queued_bytes = 0
        return data

    @property
    def has_data(self) -> bool:
        return bool(self._queued)

    def _frame(self, data: bytes) -> bytes:
        if not self._chunked:
            return data
        return b"%X\r\n%s\r\n" % (len(data), data)


class PushedResponse:
    """A channel's pushed response: its sink and its pusher (see ``httpserver``)."""

    def __init__(self, pusher: Pusher, sink: PushSink) -> None:
        self.pusher = pusher
        self.sink = sink
        self._detached = False
        self._lock = threading.Lock()

    def gone(self) -> None:
        with self._lock:
            if self._detached:
                return
            self._detached = True
        self.sink.gone = True
        self.pusher.detached()


def hand_over(environ: dict[str, Any]) -> HandOver | None:
    """The server's hand-over function, when the server offers one."""
    found = environ.get(PUSH_KEY)
    return found if callable(found) else None
