"""HTTPS in front of waitress (which has no TLS): a threaded TLS terminator that pipes each
connection to waitress's internal loopback listener.

The client's real address travels beside the bytes: the front records which local port
each piped connection uses, and ``ClientAddresses.middleware`` puts the address (and the
https scheme) back into the WSGI environ, so login throttling and the audit trail see it.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits
from appliance.errors import ConfigError
from appliance.security.certificates import Certificates

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ClientAddresses:
    """Local port of a piped connection -> the TLS client's address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_port: dict[str, str] = {}

    def add(self, port: int, address: str) -> None:
        with self._lock:
            self._by_port[str(port)] = address

    def remove(self, port: int) -> None:
        with self._lock:
            self._by_port.pop(str(port), None)

    def middleware(self, app: WsgiApp, *, internal_port: int) -> WsgiApp:
        def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]
                    ) -> Iterable[bytes]:
            if environ.get("SERVER_PORT") == str(internal_port):
                with self._lock:
                    address = self._by_port.get(str(environ.get("REMOTE_PORT")))
                if address is not None:
                    environ["REMOTE_ADDR"] = address
                    environ["wsgi.url_scheme"] = "https"
                    environ["HTTPS"] = "on"
            return app(environ, start_response)

        return wrapped


class PipedConnection:
    """A client of the TLS front, as the limiter and the front's watch see it: evictable
    while it opens (the TLS handshake), overdue once an answer has waited ``stall_seconds``
    for the client to take any of it."""

    def __init__(self, sock: socket.socket, limits: ConnectionLimits) -> None:
        self.sock = sock  # the TLS socket once the handshake is done
        self.limits = limits
        self.accepted = time.monotonic()
        self.sending_since: float | None = None

    def waiting_since(self) -> float | None:
        if time.monotonic() - self.accepted > self.limits.header_seconds:
            return None
        return self.accepted

    def overdue(self, now: float) -> bool:
        since = self.sending_since
        return since is not None and now - since > self.limits.stall_seconds

    def evict(self) -> None:
        # The plain socket's shutdown wakes the threads blocked on it (SSLSocket's own
        # would unwrap it under them); they close it and give the place back.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)

    def send(self, data: bytes) -> None:
        self.sending_since = time.monotonic()
        try:
            self.sock.sendall(data)
        finally:
            self.sending_since = None


class TlsFront:
    """Counts connections by the client's real address (waitress behind it sees only
    loopback); waitress's deadlines close what the client does not send in time, which
    ends the pipe here too, and the front's own watch drops a client that stops taking
    its answers."""

    def __init__(self, listener: socket.socket, *, backend_port: int,
                 certificates: Certificates, addresses: ClientAddresses,
                 limits: ConnectionLimits) -> None:
        self.backend_port = backend_port
        self.addresses = addresses
        self.limits = limits
        self.limiter = ConnectionLimiter(limits, name="https")
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(str(certificates.cert), str(certificates.key))
        self.listener = listener
        self._closed = threading.Event()
        self._piped: dict[int, PipedConnection] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="tls-front", daemon=True)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self.listener.close()

    def _accept(self) -> None:
        self.listener.settimeout(1.0)  # the watch runs between accepts
        while not self._closed.is_set():
            try:
                client, address = self.listener.accept()
            except TimeoutError:
                self._drop_stalled()
                continue
            except OSError:
                if self._closed.is_set():
                    return
                continue
            client.settimeout(None)
            held = PipedConnection(client, self.limits)
            if not self.limiter.admit(address[0], held):
                with contextlib.suppress(OSError):
                    client.close()
                continue
            with self._lock:
                self._piped[id(held)] = held
            threading.Thread(target=self._serve, args=(held, address[0]), daemon=True,
                             name="tls-conn").start()
            self._drop_stalled()

    def _drop_stalled(self) -> None:
        now = time.monotonic()
        with self._lock:
            stalled = [held for held in self._piped.values() if held.overdue(now)]
        for held in stalled:
            log.info("https: dropped a client that took none of its answer for %.0f s",
                     self.limits.stall_seconds)
            held.evict()

    def _serve(self, held: PipedConnection, address: str) -> None:
        try:
            self._relay(held, address)
        finally:
            self.limiter.release(held)
            with self._lock:
                self._piped.pop(id(held), None)

    def _relay(self, held: PipedConnection, address: str) -> None:
        raw = held.sock
        try:
            raw.settimeout(self.limits.header_seconds)
            client = self.context.wrap_socket(raw, server_side=True)
            client.settimeout(None)
        except (OSError, ssl.SSLError) as exc:
            log.debug("TLS handshake with %s failed: %s", address, exc)
            raw.close()
            return
        held.sock = client
        try:
            backend = socket.create_connection(("127.0.0.1", self.backend_port))
        except OSError:
            client.close()
            return
        port = int(backend.getsockname()[1])
        self.addresses.add(port, address)
        upstream = threading.Thread(target=_pipe, args=(client, backend, backend.sendall),
                                    daemon=True, name="tls-up")
        upstream.start()
        _pipe(backend, client, held.send)
        upstream.join()
        self.addresses.remove(port)
        for s in (client, backend):
            with contextlib.suppress(OSError):
                s.close()


def _pipe(source: socket.socket, target: socket.socket,
          send: Callable[[bytes], object]) -> None:
    try:
        while data := source.recv(65536):
            send(data)
    except OSError:
        pass
    finally:
        # The backend gets a half-close (it answers what it has, then closes); the TLS side
        # cannot half-close, so it is shut, which also wakes the other direction's thread
        # (closing alone leaves it blocked on the socket for as long as the client is
        # silent: a client that never closed kept its place for ever), and closed.
        try:
            if isinstance(target, ssl.SSLSocket):
                socket.socket.shutdown(target, socket.SHUT_RDWR)
                target.close()
            else:
                target.shutdown(socket.SHUT_WR)
        except OSError:
            with contextlib.suppress(OSError):
                target.close()


def bind(listen: str) -> socket.socket:
    """A listening socket for ``HOST:PORT`` (``[::]:PORT`` for IPv6)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"'{listen}' is not HOST:PORT (for example 127.0.0.1:8080).")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, int(port)))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"Cannot listen on {listen}: {exc.strerror}. Is another VirtStick "
                          "(or another program) using it? Choose another address with "
                          "--listen or in the configuration.") from None
    sock.listen(128)
    return sock
