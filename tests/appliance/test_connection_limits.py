"""The connection limiter every listener shares, without sockets: per-address and total
bounds, and who makes room when the listener is full."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits, LimitedServerMixIn


@dataclass(eq=False)
class Fake:
    """Stands in for a connection: the limiter only asks whether it waits and evicts it."""

    since: float | None = 0.0
    evicted: bool = False

    def waiting_since(self) -> float | None:
        return self.since

    def evict(self) -> None:
        self.evicted = True


def test_an_address_holds_its_limit_and_no_more() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=100, per_address=3), name="t")
    held = [Fake() for _ in range(3)]
    assert all(limiter.admit("10.0.0.9", h) for h in held)
    assert not limiter.admit("10.0.0.9", Fake())
    assert limiter.admit("10.0.0.8", Fake())  # another address is not affected
    limiter.release(held[0])
    limiter.release(held[0])  # twice is harmless
    assert limiter.open_connections("10.0.0.9") == 2
    assert limiter.admit("10.0.0.9", Fake())


def test_a_full_listener_evicts_the_busiest_addresss_oldest_waiting() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=4, per_address=3), name="t")
    serving, waiting_old, waiting_new = Fake(since=None), Fake(since=1.0), Fake(since=2.0)
    other = Fake(since=0.5)
    for held in (serving, waiting_old, waiting_new):
        assert limiter.admit("10.0.0.9", held)
    assert limiter.admit("10.0.0.7", other)
    newcomer = Fake()
    assert limiter.admit("127.0.0.1", newcomer)
    assert waiting_old.evicted and not serving.evicted and not other.evicted
    assert limiter.open_connections() == 4
    assert limiter.open_connections("10.0.0.9") == 2


def test_a_full_listener_of_busy_connections_refuses() -> None:
    limiter = ConnectionLimiter(ConnectionLimits(total=2, per_address=2), name="t")
    busy = [Fake(since=None), Fake(since=None)]
    assert all(limiter.admit("10.0.0.9", h) for h in busy)
    assert not limiter.admit("127.0.0.1", Fake())
    assert not any(h.evicted for h in busy)


class _Quiet(BaseHTTPRequestHandler):
    timeout = 2.0  # a silent client gives its place back

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Limited(LimitedServerMixIn, ThreadingHTTPServer):
    daemon_threads = True


def test_a_socketserver_with_the_mixin_keeps_an_address_to_its_limit() -> None:
    """What a listener of its own (the image daemon's) gets: the seventh idle connection
    from one address is closed at once; a request from another address is served."""
    limiter = ConnectionLimiter(ConnectionLimits(total=50, per_address=6), name="t")
    server = _Limited(("127.0.0.1", 0), _Quiet, limiter=limiter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    idle = [socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.3", 0))
            for _ in range(6)]
    try:
        deadline = time.monotonic() + 5
        while limiter.open_connections("127.0.0.3") < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        extra = socket.create_connection(("127.0.0.1", port), timeout=5,
                                         source_address=("127.0.0.3", 0))
        assert extra.recv(1) == b""  # closed as accepted
        extra.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
            assert answer.read() == b"ok"
    finally:
        for sock in idle:
            sock.close()
        server.shutdown()
        server.server_close()
