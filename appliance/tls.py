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
from collections.abc import Callable, Iterable
from typing import Any

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits, OpeningSocket
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


class TlsFront:
    """Counts connections by the client's real address (waitress behind it sees only
    loopback); waitress's deadlines close what the client does not send in time, which
    ends the pipe here too."""

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
        while not self._closed.is_set():
            try:
                client, address = self.listener.accept()
            except OSError:
                if self._closed.is_set():
                    return
                continue
            held = OpeningSocket(client, self.limits.header_seconds)
            if not self.limiter.admit(address[0], held):
                with contextlib.suppress(OSError):
                    client.close()
                continue
            threading.Thread(target=self._serve, args=(client, address[0], held), daemon=True,
                             name="tls-conn").start()

    def _serve(self, raw: socket.socket, address: str, held: OpeningSocket) -> None:
        try:
            self._relay(raw, address)
        finally:
            self.limiter.release(held)

    def _relay(self, raw: socket.socket, address: str) -> None:
        try:
            raw.settimeout(self.limits.header_seconds)
            client = self.context.wrap_socket(raw, server_side=True)
            client.settimeout(None)
        except (OSError, ssl.SSLError) as exc:
            log.debug("TLS handshake with %s failed: %s", address, exc)
            raw.close()
            return
        try:
            backend = socket.create_connection(("127.0.0.1", self.backend_port))
        except OSError:
            client.close()
            return
        port = int(backend.getsockname()[1])
        self.addresses.add(port, address)
        upstream = threading.Thread(target=_pipe, args=(client, backend), daemon=True,
                                    name="tls-up")
        upstream.start()
        _pipe(backend, client)
        upstream.join()
        self.addresses.remove(port)
        for s in (client, backend):
            with contextlib.suppress(OSError):
                s.close()


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        # The backend gets a half-close (it answers what it has, then closes); the TLS side
        # cannot half-close, so it is closed, which also ends the other direction.
        try:
            if isinstance(target, ssl.SSLSocket):
                target.close()
            else:
                target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


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
