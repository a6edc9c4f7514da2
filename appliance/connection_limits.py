"""Bounds on open connections, shared by every listener of the service: waitress (plain HTTP
and behind the TLS front), the TLS front itself, the console proxy, the image daemon.

Each listener holds a ``ConnectionLimiter``: a client address may hold ``per_address``
connections, the listener ``total``. When the listener is full, a new connection takes the
place of the one that has waited longest for a request, from the address holding the most
(a flood of idle or half-sent requests is what fills it; the flooder loses its own oldest,
and a newcomer gets in). A connection that is serving a request is never evicted.
Thread-per-connection servers wrap their handler with ``guard()`` (the console proxy's
websockets server), ``socketserver`` servers (``http.server.ThreadingHTTPServer``) mix in
``LimitedServerMixIn``; waitress's channels hold their own place (``appliance.httpserver``).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from appliance.config import HttpSection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionLimits:
    total: int = 400
    per_address: int = 32
    header_seconds: float = 5.0  # from connect (or the last answer) to a request's whole head
    request_seconds: float = 30.0  # a whole request that is not an authenticated upload
    idle_seconds: float = 15.0  # a kept-alive connection with nothing to do
    # An answer the client takes none of for this long: it stopped reading (a slow reader
    # would otherwise keep its connection, its place and its buffers for ever).
    stall_seconds: float = 30.0

    @classmethod
    def from_config(cls, http: HttpSection) -> ConnectionLimits:
        return cls(total=http.max_connections, per_address=http.max_connections_per_address,
                   header_seconds=http.request_header_seconds,
                   stall_seconds=http.response_stall_seconds)


class Held(Protocol):
    """A connection as a limiter sees it."""

    def waiting_since(self) -> float | None:
        """Since when (``time.monotonic``) it waits for a request; None while it serves."""

    def evict(self) -> None:
        """Close it to make room (called without the limiter's lock)."""


class ConnectionLimiter:
    def __init__(self, limits: ConnectionLimits, *, name: str) -> None:
        self.limits = limits
        self.name = name
        self._lock = threading.Lock()
        # address -> its connections in the order they came (dicts keep it): the oldest
        # waiting one of the busiest address is found without looking at every connection.
        self._by_address: dict[str, dict[int, Held]] = {}
        self._address_of: dict[int, str] = {}

    def admit(self, address: str, held: Held) -> bool:
        """Whether ``held`` (a new connection from ``address``) may stay open."""
        victim: Held | None = None
        with self._lock:
            mine = self._by_address.get(address, {})
            if len(mine) >= self.limits.per_address:
                log.info("%s: refused a connection from %s: it holds %d already", self.name,
                         address, len(mine))
                return False
            if len(self._address_of) >= self.limits.total:
                victim = self._pick_victim()
                if victim is None:
                    log.warning("%s: refused a connection from %s: %d open, all busy",
                                self.name, address, len(self._address_of))
                    return False
                self._forget(victim)
            self._by_address.setdefault(address, {})[id(held)] = held
            self._address_of[id(held)] = address
        if victim is not None:
            with contextlib.suppress(Exception):
                victim.evict()
        return True

    def release(self, held: Held) -> None:
        """Idempotent: an evicted connection releases again when it closes."""
        with self._lock:
            self._forget(held)

    def open_connections(self, address: str | None = None) -> int:
        with self._lock:
            if address is None:
                return len(self._address_of)
            return len(self._by_address.get(address, {}))

    def guard(self, handler: Callable[[socket.socket, Any], None]
              ) -> Callable[[socket.socket, Any], None]:
        """A thread-per-connection server's handler, under the limits: a connection over them
        is closed at once; one still opening (its first ``header_seconds``) may be evicted."""
        def guarded(sock: socket.socket, address: Any) -> None:
            held = OpeningSocket(sock, self.limits.header_seconds)
            if not self.admit(client_address(address), held):
                with contextlib.suppress(OSError):
                    sock.close()
                return
            try:
                handler(sock, address)
            finally:
                self.release(held)
        return guarded

    def _pick_victim(self) -> Held | None:
        for held_by_one in sorted(self._by_address.values(), key=len, reverse=True):
            for held in held_by_one.values():
                if held.waiting_since() is not None:
                    return held
        return None

    def _forget(self, held: Held) -> None:
        address = self._address_of.pop(id(held), None)
        if address is None:
            return
        mine = self._by_address[address]
        del mine[id(held)]
        if not mine:
            del self._by_address[address]


class Opening:
    """A connection evictable while it opens (its first ``opening_seconds``: TLS and
    protocol handshakes), in use afterwards; ``evict`` is each server's own."""

    def __init__(self, opening_seconds: float) -> None:
        self.accepted = time.monotonic()
        self.opening_seconds = opening_seconds

    def waiting_since(self) -> float | None:
        if time.monotonic() - self.accepted > self.opening_seconds:
            return None
        return self.accepted


class OpeningSocket(Opening):
    """A connection of a thread-per-connection server."""

    def __init__(self, sock: socket.socket, opening_seconds: float) -> None:
        super().__init__(opening_seconds)
        self.sock = sock

    def evict(self) -> None:
        # Wakes the thread blocked on it; that thread closes it and releases its place.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class LimitedServerMixIn:
    """For ``socketserver`` servers: ``class Server(LimitedServerMixIn, ThreadingHTTPServer)``
    built with ``limiter=`` first. A connection over the limits is closed as accepted;
    handlers should set their own socket ``timeout`` (``limits.header_seconds`` suits
    ``BaseHTTPRequestHandler.timeout``) so a silent client gives its place back."""

    def __init__(self, *args: Any, limiter: ConnectionLimiter, **kwargs: Any) -> None:
        self.limiter = limiter
        self._held_lock = threading.Lock()
        self._held: dict[int, OpeningSocket] = {}
        super().__init__(*args, **kwargs)

    def verify_request(self, request: Any, client_address_: Any) -> bool:
        held = OpeningSocket(request, self.limiter.limits.header_seconds)
        if not self.limiter.admit(client_address(client_address_), held):
            return False
        with self._held_lock:
            self._held[id(request)] = held
        return True

    def shutdown_request(self, request: Any) -> None:
        with self._held_lock:
            held = self._held.pop(id(request), None)
        if held is not None:
            self.limiter.release(held)
        super().shutdown_request(request)  # type: ignore[misc]


def client_address(address: Any) -> str:
    """The host part of a socket address (``("1.2.3.4", 5)``, IPv6 tuples, or a string)."""
    if isinstance(address, tuple | list) and address:
        return str(address[0])
    return str(address or "")
