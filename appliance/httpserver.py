"""waitress, bounded: connections per client address and in total, a request's head within
seconds, idle kept-alive connections closed soon, and every listener's sockets polled (not
select()ed, which stops at descriptor 1024).

waitress reads each request in its one event-loop thread and hands only whole requests to
its worker threads, so half-sent requests cost no worker; what they cost is a connection
place, and these channels give it back on a deadline: ``header_seconds`` for the head,
``request_seconds`` for a whole small request, ``idle_seconds`` between requests, and
``stall_seconds`` for an answer the client stops taking.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask
from waitress.utilities import Error

from appliance.body_limits import Admission, BodyGate, Head, refusal
from appliance.connection_limits import ConnectionLimiter, ConnectionLimits, client_address
from appliance.errors import PayloadTooLarge, VirtStickError
from appliance.push import PUSH_KEY, PushedResponse, Pusher, PushSink
from appliance.tls import WsgiApp

THREADS = 8
ACCEPTS_PER_TURN = 64
MAX_HEAD = 32 * 1024
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


class _Refused(Error):  # type: ignore[misc]
    """A request refused on its head, answered in its route's form (see body_limits)."""

    def __init__(self, exc: VirtStickError, path: str) -> None:
        super().__init__(exc.detail)
        self.code, self.reason = exc.status, exc.reason
        self.exc, self.path = exc, path

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        return refusal(self.exc, self.path)


class GatedParser(HTTPRequestParser):  # type: ignore[misc]
    """Asks the body gate once the head is in, before any of the body is taken, and stops
    a body (chunked ones too) at the limit it was given."""

    def __init__(self, adj: Adjustments, *, gate: BodyGate | None) -> None:
        super().__init__(adj)
        self.gate = gate
        self.admission: Admission | None = None

    @property
    def upload(self) -> bool:
        return self.admission is not None and self.admission.upload

    def received(self, data: bytes) -> int:
        heading = not self.headers_finished
        consumed: int = super().received(data)
        if self.gate is None or self.error is not None or self.completed:
            return consumed
        if heading and self.headers_finished:
            try:
                self.admission = self.gate.admit(self._head())
            except VirtStickError as exc:
                self._refuse(exc)
        elif self.admission is not None and self.body_bytes_received > self.admission.limit:
            self._refuse(PayloadTooLarge(f"The request body passed its limit of "
                                         f"{self.admission.limit} bytes."))
        return consumed

    def close(self) -> None:
        super().close()
        self.release()

    def release(self) -> None:
        """The request is done (or its connection gone): its body's bytes are free again."""
        admission, self.admission = self.admission, None
        if admission is not None and admission.held and self.gate is not None:
            self.gate.budget.release(admission.held)

    def _head(self) -> Head:
        headers = self.headers
        return Head(method=self.command, path=self.path,
                    content_length=None if self.chunked else int(self.content_length),
                    authorization=headers.get("AUTHORIZATION", ""),
                    cookie=headers.get("COOKIE", ""))

    def _refuse(self, exc: VirtStickError) -> None:
        self.error = _Refused(exc, self.path)
        self.completed = True
        self.expect_continue = False  # no "100 Continue" for a body we will not read
        self.connection_close = True


class PushTask(WSGITask):  # type: ignore[misc]
    """Offers the app the hand-over of its response to the event loop (``appliance.push``);
    a handed-over response ends without its last chunk, and the channel stays open."""

    pusher: Pusher | None = None

    def get_environment(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environment()
        environ[PUSH_KEY] = self._hand_over
        return environ

    def _hand_over(self, pusher: Pusher) -> None:
        self.pusher = pusher

    def finish(self) -> None:
        if self.pusher is None:
            super().finish()
            return
        if not self.wrote_header:
            self.write(b"")
        self.close_on_finish = False
        self.channel.begin_push(self.pusher, chunked=self.chunked_response)


class GuardedChannel(HTTPChannel):  # type: ignore[misc]
    task_class = PushTask
    pushed: PushedResponse | None = None  # once a response was handed over to the loop
    current_outbuf_count: int  # waitress's

    def __init__(self, server: GuardedServer, sock: Any, addr: Any, adj: Adjustments,
                 map: dict[int, Any] | None = None) -> None:
        self.opened = time.monotonic()
        self.request_started = self.opened
        super().__init__(server, sock, addr, adj, map=map)

    # A pushed response: its bytes come from the pusher's sink, in the event loop's thread

    def begin_push(self, pusher: Pusher, *, chunked: bool) -> None:
        sink = PushSink(chunked=chunked, wake=self.server.pull_trigger,
                        backlog=lambda: int(self.total_outbufs_len))
        self.pushed = PushedResponse(pusher, sink)
        pusher.attached(sink)

    def writable(self) -> bool:
        pushed = self.pushed
        if pushed is not None and (pushed.sink.has_data or pushed.sink.ending):
            return True
        return bool(super().writable())

    def readable(self) -> bool:
        if self.pushed is not None:
            return not self.will_close  # to see the client go; what it sends is ignored
        return bool(super().readable())

    def handle_write(self) -> None:
        pushed = self.pushed
        if pushed is not None:
            data = pushed.sink.take()
            if data:
                self._queue(data)
            if pushed.sink.ending:
                self.close_when_flushed = True
        super().handle_write()

    def _queue(self, data: bytes) -> None:
        with self.outbuf_lock:
            if self.current_outbuf_count >= self.adj.outbuf_high_watermark:
                self.outbufs.append(OverflowableBuffer(self.adj.outbuf_overflow))
                self.current_outbuf_count = 0
            self.outbufs[-1].append(data)
            self.current_outbuf_count += len(data)
            self.total_outbufs_len += len(data)

    def parser_class(self, adj: Adjustments) -> GatedParser:
        return GatedParser(adj, gate=self.server.gate)

    def received(self, data: bytes) -> bool:
        if self.pushed is not None:
            return True  # a pushed response's client has nothing more to ask
        if self.request is None and data:
            self.request_started = time.monotonic()
        result: bool = super().received(data)
        return result

    def waiting_since(self) -> float | None:
        """For the limiter: a channel waiting for (the head of) a request may be evicted."""
        if self.requests or self.will_close or self.pushed is not None:
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
        if self.requests or self.pushed is not None:
            return False
        now = time.monotonic()
        request = self.request
        if request is None:
            # Nothing sent or received yet (else waitress's idle timeout applies).
            untouched = self.last_activity == self.creation_time
            return untouched and now - self.opened > limits.header_seconds
        if not request.headers_finished:
            return now - self.request_started > limits.header_seconds
        if isinstance(request, GatedParser) and request.upload:
            return False  # an authenticated upload: waitress's inactivity timeout applies
        return now - self.request_started > limits.request_seconds

    def stalled(self, limits: ConnectionLimits) -> bool:
        """An answer the client has taken none of for ``stall_seconds``. Marking it to close
        is not enough: waitress closes a channel when its socket turns writable, which a
        client that stopped reading never lets happen (its place, its buffered answer, and
        the worker writing it would be held for ever)."""
        if not self.total_outbufs_len:
            return False
        return time.time() - float(self.last_activity) > limits.stall_seconds

    def refuse(self) -> None:
        with contextlib.suppress(OSError):
            self.socket.send(_REFUSED)
        self.handle_close()

    def del_channel(self, map: dict[int, Any] | None = None) -> None:
        super().del_channel(map)
        # waitress closes the requests it served, not one cut off while its body came (and
        # a worker may still read the body of one it serves: only the bytes are counted).
        for request in [self.request, *self.requests]:
            if isinstance(request, GatedParser):
                request.release()
        limiter = self.server.limiter
        if limiter is not None:
            limiter.release(self)
        if self.pushed is not None:
            self.pushed.gone()


class GuardedServer(TcpWSGIServer):  # type: ignore[misc]
    channel_class = GuardedChannel

    def __init__(self, *args: Any, listener: Listener, gate: BodyGate | None,
                 **kwargs: Any) -> None:
        self.limits = listener.limits
        self.limiter = listener.limiter
        self.gate = gate
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
        address = client_address(addr)
        if self.limiter is not None and \
                self.limiter.open_connections(address) >= self.limits.per_address:
            _refuse(conn)  # the cheap way, before a channel exists: a flood's usual case
            return True
        channel = self.channel_class(self, conn, addr, self.adj, map=self._map)
        if self.limiter is not None and not self.limiter.admit(address, channel):
            channel.refuse()
        return True

    def maintenance(self, now: float) -> None:
        super().maintenance(now)
        for channel in list(self.active_channels.values()):
            if not isinstance(channel, GuardedChannel):
                continue
            if channel.stalled(self.limits):
                channel.handle_close()  # wakes a worker waiting to write more to it
            elif channel.overdue(self.limits):
                channel.will_close = True


def create_server(app: WsgiApp, listeners: Sequence[Listener], *, gate: BodyGate | None,
                  ident: str = "VirtStick") -> GuardedServer | MultiSocketServer:
    """One waitress event loop over every listener (one worker pool); ``gate`` decides on
    each request's body from its head."""
    if not listeners:
        raise ValueError("nothing to listen on")
    limits = listeners[0].limits
    adj = Adjustments(
        sockets=[listener.sock for listener in listeners], threads=THREADS, ident=ident,
        asyncore_use_poll=True,
        # The gate's route limits decide, in the route's words (the parser stops a body at
        # its limit); waitress's own check would answer first, in its own.
        max_request_body_size=2**62 if gate is not None else 16 * 1024**2,
        # A head is a few hundred bytes (a token, a cookie); waitress would take 256 KiB on
        # each of hundreds of connections.
        max_request_header_size=MAX_HEAD,
        # Our limiters refuse early; waitress's own limit (which stops accepting, so the
        # backlog fills and nobody gets in) stays out of reach.
        connection_limit=sum(2 * (lst.limits.total + 8) for lst in listeners),
        channel_timeout=max(1, int(limits.idle_seconds)), cleanup_interval=1)
    socket_map: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [GuardedServer(app, socket_map, True, listener.sock, dispatcher=dispatcher,
                             adj=adj, bind_socket=False, listener=listener, gate=gate,
                             sockinfo=(listener.sock.family, listener.sock.type,
                                       listener.sock.proto, listener.sock.getsockname()))
               for listener in listeners]
    if len(servers) == 1:
        return servers[0]
    effective = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(socket_map, adj, effective, dispatcher, servers[-1].log_info)


def _refuse(sock: Any) -> None:
    with contextlib.suppress(OSError):
        sock.setblocking(False)
        sock.send(_REFUSED)
    with contextlib.suppress(OSError):
        sock.close()
