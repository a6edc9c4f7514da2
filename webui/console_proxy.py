"""The console proxy: WebSocket (noVNC in the browser) to TCP (the VM's VNC display), and
WebSocket (xterm.js) to the VM's serial console.

A browser connects to ``/websockify/<ticket>`` (the screen) or ``/serial/<ticket>`` (the
serial console) with its portal session cookie; the ticket is redeemed once, as the
session's user, and only then is the display's address known. It runs beside waitress
(which cannot hold WebSockets) on ``http.console_listen``, as oVirt's websocket proxy does
on its own port. A VM's serial port takes one client at a time: a new serial console of a
VM closes the one open before (its page says so).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.cookies import SimpleCookie
from typing import Any

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from appliance.connection_limits import ConnectionLimiter, ConnectionLimits
from appliance.engine.consoles import Consoles, ConsoleTicket, SerialTicket
from appliance.engine.engine import Engine
from appliance.errors import VirtStickError
from webui.session import COOKIE_NAME, actor_from_session

log = logging.getLogger(__name__)

PATH_PREFIX = "/websockify/"
SERIAL_PREFIX = "/serial/"
SERIAL_TAKEN = 4001  # close code: the serial console was opened elsewhere
CHUNK = 64 * 1024
# A browser holds one WebSocket per open console; a classroom behind one address a few dozen.
MAX_CONSOLES = 64
MAX_CONSOLES_PER_ADDRESS = 16
MAX_MESSAGE = 1024 * 1024  # RFB client messages are small; a pasted clipboard fits


class ConsoleProxy:
    def __init__(self, engine: Engine, *, read_session: Callable[[str], Any],
                 listen: str, tls: ssl.SSLContext | None = None) -> None:
        self.engine = engine
        self.consoles: Consoles = engine.consoles
        self.read_session = read_session
        host, _, port = listen.rpartition(":")
        limits = ConnectionLimits(total=MAX_CONSOLES, per_address=MAX_CONSOLES_PER_ADDRESS,
                                  header_seconds=engine.config.http.request_header_seconds)
        self.limiter = ConnectionLimiter(limits, name="console")
        self._server: Server = serve(self._relay, host or "127.0.0.1", int(port),
                                     process_request=self._admit,
                                     select_subprotocol=_binary_if_offered,
                                     compression=None, max_size=MAX_MESSAGE, ssl=tls,
                                     open_timeout=limits.header_seconds)
        # Counted from accept, before any TLS or WebSocket handshake is read.
        self._server.handler = self.limiter.guard(self._server.handler)
        self.port: int = self._server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="console-proxy", daemon=True)
        self._serial_lock = threading.Lock()
        self._serial_open: dict[str, ServerConnection] = {}  # VM id -> its serial client

    def start(self) -> ConsoleProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Redeem the ticket during the handshake: a refused one never becomes a WebSocket."""
        prefix = next((p for p in (PATH_PREFIX, SERIAL_PREFIX) if request.path.startswith(p)),
                      None)
        if prefix is None:
            return _refuse(connection, HTTPStatus.NOT_FOUND, "no such console")
        token = request.path[len(prefix):].split("?", 1)[0]
        address = str(connection.remote_address[0]) if connection.remote_address else ""
        who = actor_from_session(self.engine, self._session(request.headers), address=address)
        if who is None:
            return _refuse(connection, HTTPStatus.UNAUTHORIZED, "log in to the portal first")
        try:
            ticket: ConsoleTicket | SerialTicket = (
                self.consoles.redeem(token, actor=who) if prefix == PATH_PREFIX
                else self.consoles.redeem_serial(token, actor=who))
        except VirtStickError as exc:
            log.info("console ticket refused for %s: %s", who.name, exc.detail)
            return _refuse(connection, HTTPStatus(exc.status), exc.detail)
        connection.console_ticket = ticket  # type: ignore[attr-defined]
        return None

    def _session(self, headers: Headers) -> Any:
        cookies: SimpleCookie = SimpleCookie()
        for value in headers.get_all("Cookie"):
            cookies.load(value)
        morsel = cookies.get(COOKIE_NAME)
        return self.read_session(morsel.value) if morsel is not None else None

    def _spend(self, ticket: ConsoleTicket) -> None:
        try:
            self.consoles.spend(ticket)
        except VirtStickError as exc:
            log.warning("could not lock the display of VM %s again: %s", ticket.vm_id,
                        exc.detail)

    def _relay(self, connection: ServerConnection) -> None:
        ticket: ConsoleTicket | SerialTicket = connection.console_ticket  # type: ignore[attr-defined]
        if isinstance(ticket, SerialTicket):
            self._relay_serial(connection, ticket)
        else:
            self._relay_display(connection, ticket)

    def _relay_serial(self, connection: ServerConnection, ticket: SerialTicket) -> None:
        try:
            session = self.consoles.open_serial(ticket)
        except VirtStickError as exc:
            connection.close(1011, exc.detail[:120])
            return
        with self._serial_lock:
            before = self._serial_open.get(ticket.vm_id)
            self._serial_open[ticket.vm_id] = connection
        if before is not None:
            before.close(SERIAL_TAKEN, "the serial console was opened in another window")
        guest = session.connection
        try:
            if session.backlog:
                connection.send(session.backlog)
            pump = threading.Thread(target=_display_to_browser,
                                    args=(guest, connection, None), name="serial-pump",
                                    daemon=True)
            pump.start()
            for message in connection:
                guest.sendall(message if isinstance(message, bytes) else message.encode())
        except (ConnectionClosed, OSError):
            pass
        finally:
            _close(guest)
            with self._serial_lock:
                if self._serial_open.get(ticket.vm_id) is connection:
                    del self._serial_open[ticket.vm_id]

    def _relay_display(self, connection: ServerConnection, ticket: ConsoleTicket) -> None:
        try:
            display = socket.create_connection((ticket.address, ticket.port), timeout=5)
        except OSError as exc:
            connection.close(1011, f"the VM's display did not answer: {exc}")
            return
        display.settimeout(None)
        login = _Login(lambda: self._spend(ticket))
        pump = threading.Thread(target=_display_to_browser, args=(display, connection, login),
                                name="console-pump", daemon=True)
        pump.start()
        try:
            for message in connection:
                data = message if isinstance(message, bytes) else message.encode()
                login.client_sent(len(data))
                display.sendall(data)
        except (ConnectionClosed, OSError):
            pass
        finally:
            _close(display)
            pump.join(5)


def _binary_if_offered(_connection: ServerConnection,
                       offered: Sequence[Subprotocol]) -> Subprotocol | None:
    """noVNC offers no subprotocol by default; older clients ask for "binary"."""
    return Subprotocol("binary") if "binary" in offered else None


class _Login:
    """Watches the RFB handshake pass: the client's version, security type and 16-byte VNC
    response make 29 bytes; the display's next words come after it checked the password."""

    CLIENT_AUTH_BYTES = 29

    def __init__(self, on_done: Callable[[], None]) -> None:
        self._on_done = on_done
        self._client_bytes = 0
        self._done = False

    def client_sent(self, count: int) -> None:
        self._client_bytes += count

    def display_sent(self) -> None:
        if not self._done and self._client_bytes >= self.CLIENT_AUTH_BYTES:
            self._done = True
            self._on_done()


def _display_to_browser(display: socket.socket, connection: ServerConnection,
                        login: _Login | None) -> None:
    try:
        while data := display.recv(CHUNK):
            if login is not None:
                login.display_sent()
            connection.send(data)
    except (ConnectionClosed, OSError):
        pass
    finally:
        connection.close()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def _refuse(connection: ServerConnection, status: HTTPStatus, message: str) -> Response:
    return connection.respond(status, message + "\n")
