"""waitress, bounded: connections per client address and in total, a request's head within
seconds, idle kept-alive connections closed soon, and every listener's sockets polled (not
select()ed, which stops at descriptor 1024).

waitress reads each request in its one event-loop thread and hands only whole requests to
its worker threads, so half-sent requests cost no worker; what they cost is a connection
place, and these channels give it back on a deadline: ``header_seconds`` for the head,
``request_seconds`` for a whole small request, ``idle_seconds`` between requests.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits, client_address
from appliance.tls import WsgiApp

THREADS = 8
ACCEPTS_PER_TURN = 64
_REFUSED = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nConnection: close\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 42\r\n\r\n"
            b"Too many connections from your address.\r\n\r\n")


@dataclass(frozen=True)
class Listener:
    """A bound socket and its bounds; ``limiter`` None where another part counts (the TLS
    front counts the clients it pipes to its internal listener)."""

    sock: Any
    limits: ConnectionLimits
    limiter: ConnectionLimiter | None


class GuardedChannel(HTTPChannel):  # type: ignore[misc]
    def __init__(self, server: GuardedServer, sock: Any, addr: Any, adj: Adjustments,
                 map: dict[int, Any] | None = None) -> None:
        self.opened = time.monotonic()
        self.request_started = self.opened
        super().__init__(server, sock, addr, adj, map=map)

    def received(self, data: bytes) -> bool:
        if self.request is None and data:
            self.request_started = time.monotonic()
        result: bool = super().received(data)
        return result

    def waiting_since(self) -> float | None:
        """For the limiter: a channel waiting for (the head of) a request may be evicted."""
        if self.requests or self.will_close:
            return None
        if self.request is not None:
            heading: bool = not self.request.headers_finished
            return self.request_started if heading else None
        idle = max(0.0, time.time() - float(self.last_activity))
        return time.monotonic() - idle

    def evict(self) -> None:
        self.handle_close()

    def overdue(self, limits: ConnectionLimits) -> bool:
        """Whether the head (or a small whole request) is later than its deadline; idle
        connections between requests are waitress's own ``channel_timeout``."""
        if self.requests:
            return False
        now = time.monotonic()
        request = self.request
        if request is None:
            # Nothing sent or received yet (else waitress's idle timeout applies).
            untouched = self.last_activity == self.creation_time
            return untouched and now - self.opened > limits.header_seconds
        if not request.headers_finished:
            return now - self.request_started > limits.header_seconds
        if getattr(request, "upload", False):
            return False  # an authenticated upload: waitress's inactivity timeout applies
        return now - self.request_started > limits.request_seconds

    def refuse(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.send(_REFUSED)
        self.handle_close()

    def del_channel(self, map: dict[int, Any] | None = None) -> None:
        super().del_channel(map)
        limiter = self.server.limiter
        if limiter is not None:
            limiter.release(self)


class GuardedServer(TcpWSGIServer):  # type: ignore[misc]
    channel_class = GuardedChannel

    def __init__(self, *args: Any, listener: Listener, **kwargs: Any) -> None:
        self.limits = listener.limits
        self.limiter = listener.limiter
        super().__init__(*args, **kwargs)

    def handle_accept(self) -> None:
        # Drain the backlog: under a flood, one accept per loop turn falls behind.
        for _ in range(ACCEPTS_PER_TURN):
            if not self._accept_one():
                return

    def _accept_one(self) -> bool:
        try:
            accepted = self.accept()
            if accepted is None:
                return False
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            return True  # gone before we got to it
        addr = self.fix_addr(addr)
        channel = self.channel_class(self, conn, addr, self.adj, map=self._map)
        if self.limiter is not None and not self.limiter.admit(client_address(addr), channel):
            channel.refuse()
        return True

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if isinstance(channel, GuardedChannel) and channel.overdue(self.limits):
                channel.will_close = True


def create_server(app: WsgiApp, listeners: Sequence[Listener], *,
                  ident: str = "VirtStick") -> GuardedServer | MultiSocketServer:
    """One waitress event loop over every listener (one worker pool)."""
    if not listeners:
        raise ValueError("nothing to listen on")
    limits = listeners[0].limits
    adj = Adjustments(
        sockets=[listener.sock for listener in listeners], threads=THREADS, ident=ident,
        asyncore_use_poll=True,
        # Our limiters refuse early; waitress's own limit (which stops accepting, so the
        # backlog fills and nobody gets in) stays out of reach.
        connection_limit=sum(2 * (lst.limits.total + 8) for lst in listeners),
        channel_timeout=max(1, int(limits.idle_seconds)), cleanup_interval=1)
    socket_map: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [GuardedServer(app, socket_map, True, listener.sock, dispatcher=dispatcher,
                             adj=adj, bind_socket=False, listener=listener,
                             sockinfo=(listener.sock.family, listener.sock.type,
                                       listener.sock.proto, listener.sock.getsockname()))
               for listener in listeners]
    if len(servers) == 1:
        return servers[0]
    effective = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, effective, dispatcher, servers[-1].log_info)
