"""The image data port's front: TLS and the bounds ovirt-imageio lacks, in a process of its
own between remote clients and the daemon's loopback listener.

The daemon starts a thread for every connection with no bound of its own, and reads a PATCH
body whole before it checks the ticket (an unauthenticated client could make it hold a
gigabyte). The front counts connections per client address and in total (the longest
waiting make room for newcomers, as the service's listeners do), closes a connection whose
request head is not in within seconds, and reads each request's head before the daemon
sees it: a body other than an upload's (``PUT``, which the daemon authorizes before reading)
may have a few KiB, and chunked bodies (which the daemon cannot read) are refused.

Data still flows: the front relays bytes and keeps none. Clients on this machine bypass it,
as oVirt's do: the daemon's OPTIONS names its unix socket and ovirt-imageio's client
switches to it. Run as ``python -m appliance.vdsm.imageio.front SETTINGS.json`` with the
listening socket inherited (the supervisor keeps it, so connections wait in its backlog
while the front restarts).
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import ssl
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits

log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024  # the daemon's own request line stops at 4 KiB
SMALL_BODY = 64 * 1024  # a PATCH (zero, flush) is a line of JSON
BUFFER = 256 * 1024
_BUSY_GRACE = 1.0  # bytes moved this recently: the connection is serving, not waiting
# A client silent this long (between requests, or not reading an answer) is gone; the
# daemon's own timeouts (60 s without a ticket, the ticket's inactivity with one) come first.
STALL_SECONDS = 300.0
_LINGER_SECONDS, _LINGER_BYTES = 2.0, 8 * 1024 * 1024
_UPLOAD = b"PUT"


@dataclass(frozen=True)
class FrontSettings:
    fd: int  # the inherited listening socket
    upstream_port: int  # the daemon's plain listener on 127.0.0.1
    cert_file: str
    key_file: str
    total: int
    per_address: int
    header_seconds: float

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> FrontSettings:
        return cls(**json.loads(path.read_text()))

    @property
    def limits(self) -> ConnectionLimits:
        return ConnectionLimits(total=self.total, per_address=self.per_address,
                                header_seconds=self.header_seconds)


class Refusal(Exception):
    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail

    def response(self) -> bytes:
        body = (self.detail + "\n").encode()
        return (f"HTTP/1.1 {self.status} {self.reason}\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


def body_limit(head: bytes) -> tuple[int, int]:
    """The length of the body announced by a request ``head`` (its bytes up to the blank
    line) and the most it may have; raises ``Refusal``."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise Refusal(400, "Bad Request", "Not an HTTP request line.")
    lengths = set()
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name = name.strip().lower()
        if name == b"transfer-encoding":
            raise Refusal(411, "Length Required", "Send the body with a Content-Length.")
        if name == b"content-length":
            lengths.add(value.strip())
    if len(lengths) > 1 or not all(v.isdigit() for v in lengths):
        raise Refusal(400, "Bad Request", "The Content-Length is not one number.")
    length = int(lengths.pop()) if lengths else 0
    limit = sys.maxsize if parts[0] == _UPLOAD else SMALL_BODY
    if length > limit:
        raise Refusal(413, "Request Entity Too Large",
                      f"This request may carry {SMALL_BODY} bytes; it announced {length}.")
    return length, limit


class Connection:
    """One client, relayed to its own connection to the daemon; as the limiter sees it,
    waiting while its request head is being read or while it idles between requests."""

    def __init__(self, raw: socket.socket, address: str, front: Front) -> None:
        self.sock: socket.socket = raw
        self.address = address
        self.front = front
        self.upstream: socket.socket | None = None
        now = time.monotonic()
        self.head_started: float | None = now  # the first head: from the connect
        self.in_body = False
        self.last_activity = now
        self._evicted = threading.Event()
        self._reading = True  # the requests side still reads from the client

    def waiting_since(self) -> float | None:
        if self.head_started is not None:
            return self.head_started
        if self.in_body or time.monotonic() - self.last_activity < _BUSY_GRACE:
            return None
        return self.last_activity

    def overdue(self, now: float) -> bool:
        started = self.head_started
        return started is not None and now - started > self.front.settings.header_seconds

    def evict(self) -> None:
        """Wake both relaying threads; they close what is theirs."""
        self._evicted.set()
        for sock in (self.sock, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    # The plain socket's shutdown: SSLSocket's own would unwrap it under
                    # the other thread's feet.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def serve(self) -> None:
        try:
            self.sock = self.front.context.wrap_socket(self.sock, server_side=True)
            self.sock.settimeout(STALL_SECONDS)
            self.upstream = socket.create_connection(("127.0.0.1",
                                                      self.front.settings.upstream_port))
        except (OSError, ssl.SSLError) as exc:
            log.debug("connection from %s ended before a request: %s", self.address, exc)
            self._close()
            return
        answers = threading.Thread(target=self._answers, name="front-answers", daemon=True)
        answers.start()
        refusal = self._requests()
        self._reading = False
        self._half_close_upstream()
        answers.join()
        if refusal is not None and not self._evicted.is_set():
            self._refuse(refusal)
        self._close()

    def _refuse(self, refusal: Refusal) -> None:
        """Answer, then take (and drop) what the client still sends for a moment: closing
        with its bytes unread would reset the connection, and the answer with it."""
        with contextlib.suppress(OSError):
            self.sock.sendall(refusal.response())
            self.sock.settimeout(_LINGER_SECONDS / 4)
            deadline = time.monotonic() + _LINGER_SECONDS
            view = memoryview(bytearray(BUFFER))
            taken = 0
            while time.monotonic() < deadline and taken < _LINGER_BYTES:
                count = self.sock.recv_into(view)
                if not count:
                    break
                taken += count

    def _requests(self) -> Refusal | None:
        """Client to daemon: each head judged before it goes on, bodies counted."""
        assert self.upstream is not None
        buffer = bytearray(MAX_HEAD)
        pending = b""  # received, not yet forwarded
        while not self._evicted.is_set():
            head_end = pending.find(b"\r\n\r\n")
            if head_end < 0:
                if len(pending) >= MAX_HEAD:
                    return Refusal(431, "Request Header Fields Too Large", "The request "
                                   f"head passed {MAX_HEAD} bytes.")
                data = self._receive(buffer)
                if not data:
                    return None
                if not pending and self.head_started is None:
                    self.head_started = time.monotonic()
                pending += data
                continue
            head, pending = pending[:head_end + 4], pending[head_end + 4:]
            try:
                length, _ = body_limit(head)
            except Refusal as refusal:
                return refusal
            self.head_started = None
            if not self._forward(head) or not self._forward(pending[:length]):
                return None
            left = length - min(length, len(pending))
            pending = pending[length:]
            if left and not self._body(left, buffer):
                return None
            if pending:  # the next head came with this one
                self.head_started = time.monotonic()
        return None

    def _body(self, left: int, buffer: bytearray) -> bool:
        self.in_body = True
        if len(buffer) < BUFFER:
            buffer.extend(bytes(BUFFER - len(buffer)))
        view = memoryview(buffer)
        try:
            while left:
                count = self._receive_into(view[:min(left, BUFFER)])
                if not count or not self._forward(view[:count]):
                    return False
                left -= count
            return True
        finally:
            self.in_body = False

    def _answers(self) -> None:
        """Daemon to client, as it comes."""
        assert self.upstream is not None
        view = memoryview(bytearray(BUFFER))
        try:
            while count := self.upstream.recv_into(view):
                self.last_activity = time.monotonic()
                self.sock.sendall(view[:count])
        except OSError:
            pass
        # The daemon closed, or the client went: stop reading the client too.
        if self._reading:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.sock, socket.SHUT_RD)

    def _receive(self, buffer: bytearray) -> bytes:
        count = self._receive_into(memoryview(buffer))
        return bytes(buffer[:count])

    def _receive_into(self, view: memoryview) -> int:
        try:
            count = self.sock.recv_into(view)
        except OSError:
            return 0
        self.last_activity = time.monotonic()
        return count

    def _forward(self, data: bytes | memoryview) -> bool:
        assert self.upstream is not None
        try:
            self.upstream.sendall(data)
            return True
        except OSError:
            return False

    def _half_close_upstream(self) -> None:
        # The daemon answers what it has read, then closes: the answers thread ends.
        if self.upstream is not None:
            with contextlib.suppress(OSError):
                self.upstream.shutdown(socket.SHUT_WR)

    def _close(self) -> None:
        for sock in (self.sock, self.upstream):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()


class Front:
    def __init__(self, settings: FrontSettings) -> None:
        self.settings = settings
        self.listener = socket.socket(fileno=settings.fd)
        self.limiter = ConnectionLimiter(settings.limits, name="imageio-front")
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(settings.cert_file, settings.key_file)
        self._connections: dict[int, Connection] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def serve_forever(self) -> None:
        self.listener.settimeout(1.0)  # the deadlines are checked between accepts
        while not self._stopping.is_set():
            try:
                raw, address = self.listener.accept()
            except TimeoutError:
                raw = None
            except OSError:
                if self._stopping.is_set():
                    return
                raw = None
            if raw is not None:
                self._admit(raw, str(address[0]))
            self._close_overdue()

    def stop(self) -> None:
        self._stopping.set()

    def _admit(self, raw: socket.socket, address: str) -> None:
        raw.settimeout(None)
        connection = Connection(raw, address, self)
        if not self.limiter.admit(address, connection):
            with contextlib.suppress(OSError):
                raw.close()
            return
        with self._lock:
            self._connections[id(connection)] = connection
        threading.Thread(target=self._serve, args=(connection,), name="front-conn",
                         daemon=True).start()

    def _serve(self, connection: Connection) -> None:
        try:
            connection.serve()
        finally:
            self.limiter.release(connection)
            with self._lock:
                self._connections.pop(id(connection), None)

    def _close_overdue(self) -> None:
        now = time.monotonic()
        with self._lock:
            late = [c for c in self._connections.values() if c.overdue(now)]
        for connection in late:
            connection.evict()


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    front = Front(FrontSettings.load(Path(argv[0])))

    def stop(*_args: Any) -> None:
        front.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    front.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
