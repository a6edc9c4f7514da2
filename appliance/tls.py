"""HTTPS in front of waitress (which has no TLS): a TLS terminator (asyncio, one thread) that
pipes each connection to waitress's internal loopback listener.

The client's real address travels beside the bytes: the front records which local port
each piped connection uses, and ``ClientAddresses.middleware`` puts the address (and the
https scheme) back into the WSGI environ, so login throttling and the audit trail see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

from appliance.connection_limits import (
    ConnectionLimiter,
    ConnectionLimits,
    Opening,
    client_address,
)
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
    ends the pipe here too.

    One asyncio loop on its own thread owns every TLS connection: an ``ssl.SSLSocket`` read
    by one thread while another writes it corrupts OpenSSL's state (clients then see "bad
    record mac"), and asyncio's TLS runs through memory buffers on the loop's one thread.
    """

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
        self._loop = asyncio.new_event_loop()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-front", daemon=True)

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        if self._thread.is_alive() and not self._stopped.is_set():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            self.listener.close()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self.listener.setblocking(False)
        server = self._loop.run_until_complete(asyncio.start_server(
            self._accepted, sock=self.listener, limit=PIPE_CHUNK))
        try:
            self._loop.run_forever()
        finally:
            self._stopped.set()
            server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _accepted(self, reader: asyncio.StreamReader,
                        writer: asyncio.StreamWriter) -> None:
        address = client_address(writer.get_extra_info("peername"))
        held = _OpeningStream(self._loop, writer, self.limits.header_seconds)
        if not self.limiter.admit(address, held):
            writer.transport.abort()
            return
        try:
            await self._relay(reader, writer, address)
        finally:
            self.limiter.release(held)
            writer.transport.abort()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     address: str) -> None:
        try:
            await writer.start_tls(self.context,
                                   ssl_handshake_timeout=self.limits.header_seconds)
        except (TimeoutError, OSError, ssl.SSLError, ConnectionError) as exc:
            log.debug("TLS handshake with %s failed: %s", address, exc)
            return
        try:
            backend_reader, backend_writer = await asyncio.open_connection(
                "127.0.0.1", self.backend_port, limit=PIPE_CHUNK)
        except OSError:
            return
        port = int(backend_writer.get_extra_info("sockname")[1])
        self.addresses.add(port, address)
        try:
            # The backend gets a half-close (it answers what it has, then closes); the TLS
            # side cannot half-close, so the backend's end closes it, ending both.
            stall = self.limits.stall_seconds
            upstream = asyncio.ensure_future(
                _pipe(reader, backend_writer, half_close=True, stall_seconds=stall))
            await _pipe(backend_reader, writer, half_close=False, stall_seconds=stall)
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await upstream
        finally:
            self.addresses.remove(port)
            backend_writer.transport.abort()


PIPE_CHUNK = 65536


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter, *,
                half_close: bool, stall_seconds: float) -> None:
    try:
        while data := await source.read(PIPE_CHUNK):
            target.write(data)
            # A slow reader slows the writer, nothing piles up here; one that takes none of
            # its answer for stall_seconds loses its place (the relay then closes both ends).
            await asyncio.wait_for(target.drain(), stall_seconds)
        if half_close and target.can_write_eof():
            target.write_eof()
    except TimeoutError:
        log.info("https: dropped a client that took none of its answer for %.0f s",
                 stall_seconds)
    except (OSError, ConnectionError, ssl.SSLError):
        pass


class _OpeningStream(Opening):
    """A TLS connection as the limiter sees it: evictable while it opens (its handshake and
    first ``opening_seconds``), in use afterwards."""

    def __init__(self, loop: asyncio.AbstractEventLoop, writer: asyncio.StreamWriter,
                 opening_seconds: float) -> None:
        super().__init__(opening_seconds)
        self._loop = loop
        self._writer = writer

    def evict(self) -> None:
        # Called from the loop's thread (admit runs there), or another: abort on the loop.
        self._loop.call_soon_threadsafe(self._writer.transport.abort)


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
