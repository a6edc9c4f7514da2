"""Pushed responses on the real waitress (appliance.httpserver): a streaming response handed
over to the event loop holds no worker thread, its bytes arrive as they are sent, a client
that stops reading loses its stream, one that leaves is noticed."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from appliance import httpserver, tls
from appliance.connection_limits import ConnectionLimiter, ConnectionLimits
from appliance.push import MAX_BACKLOG, PushSink, hand_over

STREAMS = 3 * httpserver.THREADS  # far more than waitress has worker threads


class Recorder:
    """The pushers of the streams opened so far, with what happened to them."""

    def __init__(self) -> None:
        self.sinks: list[PushSink] = []
        self.detached = 0
        self.changed = threading.Condition()

    def attached(self, sink: PushSink) -> None:
        with self.changed:
            self.sinks.append(sink)
            self.changed.notify_all()

    def detached_one(self) -> None:
        with self.changed:
            self.detached += 1
            self.changed.notify_all()

    def wait(self, what: Callable[[], bool], timeout: float = 10) -> None:
        with self.changed:
            assert self.changed.wait_for(what, timeout), "it did not happen in time"


class _Pusher:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def attached(self, sink: PushSink) -> None:
        self.recorder.attached(sink)

    def detached(self) -> None:
        self.recorder.detached_one()


def app_for(recorder: Recorder) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/stream":
            give = hand_over(environ)
            assert give is not None, "waitress offers no hand-over"
            give(_Pusher(recorder))
            start_response("200 OK", [("Content-Type", "text/event-stream")])
            return iter([b"opened\n"])  # no Content-Length: chunked, left open
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"pong\n"]
    return app


@pytest.fixture
def served() -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    sock = tls.bind("127.0.0.1:0")
    limits = ConnectionLimits(total=200, per_address=100)
    server = httpserver.create_server(
        app_for(recorder), [httpserver.Listener(sock, limits, ConnectionLimiter(limits, name="t"))],
        gate=None)
    thread = threading.Thread(target=_run, args=(server,), daemon=True)
    thread.start()
    yield int(sock.getsockname()[1]), recorder
    server.close()
    thread.join(5)


def _run(server: Any) -> None:
    with contextlib.suppress(OSError, ValueError):  # closed under its feet at the end
        server.run()


def open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
    return sock


def read_until(sock: socket.socket, marker: bytes, timeout: float = 10) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return read_until(sock, b"pong")


def test_many_open_streams_hold_no_worker_and_all_get_their_bytes(
        served: tuple[int, Recorder]) -> None:
    port, recorder = served
    streams = [open_stream(port) for _ in range(STREAMS)]
    recorder.wait(lambda: len(recorder.sinks) == STREAMS)
    for sock in streams:
        assert b"Transfer-Encoding: chunked" in read_until(sock, b"opened")
    # Every worker would be taken by now if streams held one: other requests still answer.
    assert b"pong" in ping(port)
    for number, sink in enumerate(recorder.sinks):
        assert sink.send(f"event {number}\n".encode())
    seen = [read_until(sock, b"event") for sock in streams]
    assert all(b"event " in data for data in seen)
    for sock in streams:
        sock.close()
    recorder.wait(lambda: recorder.detached == STREAMS)


def test_a_closed_stream_ends_its_response_and_its_connection(
        served: tuple[int, Recorder]) -> None:
    port, recorder = served
    sock = open_stream(port)
    recorder.wait(lambda: len(recorder.sinks) == 1)
    recorder.sinks[0].send(b"last words\n")
    recorder.sinks[0].close()
    data = read_until(sock, b"0\r\n\r\n")
    assert data.endswith(b"last words\n\r\n0\r\n\r\n")
    assert sock.recv(10) == b""  # closed after the last chunk
    assert not recorder.sinks[0].send(b"more")
    recorder.wait(lambda: recorder.detached == 1)


def test_a_client_that_stops_reading_loses_its_stream(served: tuple[int, Recorder]) -> None:
    port, recorder = served
    sock = open_stream(port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    recorder.wait(lambda: len(recorder.sinks) == 1)
    sink = recorder.sinks[0]
    piece = b"x" * 8192
    sent = 0
    deadline = time.monotonic() + 30
    while sink.send(piece):  # the socket's buffers fill, then the backlog
        sent += len(piece)
        assert time.monotonic() < deadline, "the stream was never dropped"
        time.sleep(0.001)
    assert sent >= MAX_BACKLOG // 2
    assert b"pong" in ping(port)  # the loop is not stuck on it
    sock.close()
    recorder.wait(lambda: recorder.detached == 1)


def test_a_client_that_leaves_is_noticed(served: tuple[int, Recorder]) -> None:
    port, recorder = served
    sock = open_stream(port)
    recorder.wait(lambda: len(recorder.sinks) == 1)
    read_until(sock, b"opened")
    sock.close()
    recorder.wait(lambda: recorder.detached == 1)
    assert recorder.sinks[0].gone
    assert not recorder.sinks[0].send(b"anyone?")
