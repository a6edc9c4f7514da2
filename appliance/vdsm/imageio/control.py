"""The daemon's control socket: add, inspect and remove transfer tickets (HTTP over unix).

A ticket names what a client may do (``ops``) to which data (``url``: our qemu-nbd socket)
for how long. Removing a ticket cancels it at once: the daemon refuses new requests with it
and waits until ongoing ones end before it answers.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import HostAgentError

_TIMEOUT = 60.0  # removing a ticket waits for the requests in flight to end
_REMOVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Ticket:
    uuid: str
    url: str  # nbd:unix:/path/to/socket
    size: int  # bytes a client may reach
    ops: tuple[str, ...]  # ("read",) or ("read", "write")
    timeout: int  # seconds the ticket lives without use
    inactivity_timeout: int  # seconds an idle authorized connection is kept
    transfer_id: str
    sparse: bool = True
    filename: str = ""
    dirty: bool = False  # the export has a dirty bitmap (an incremental backup's)

    def to_json(self) -> bytes:
        data: dict[str, Any] = {
            "uuid": self.uuid, "url": self.url, "size": self.size, "ops": list(self.ops),
            "timeout": self.timeout, "inactivity_timeout": self.inactivity_timeout,
            "transfer_id": self.transfer_id, "sparse": self.sparse, "dirty": self.dirty,
        }
        if self.filename:
            data["filename"] = self.filename
        return json.dumps(data).encode()


@dataclass(frozen=True)
class TicketStatus:
    active: bool  # a request is being served
    connections: int
    idle_time: int  # seconds since the last request ended (0 while active)
    transferred: int | None  # bytes moved so far (None for read-write tickets)
    canceled: bool


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self._path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


class ControlClient:
    def __init__(self, socket_path: Path, *, timeout: float = _TIMEOUT) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    def ping(self) -> bool:
        """The daemon answers on its control socket."""
        try:
            status, _ = self._send("GET", "/tickets/ping", None, timeout=2.0)
        except OSError:
            return False
        return status in (200, 404)

    def add(self, ticket: Ticket) -> None:
        status, body = self._request("PUT", f"/tickets/{ticket.uuid}", ticket.to_json())
        if status != 200:
            raise HostAgentError(f"ovirt-imageio refused the transfer ticket: {_error(body)}")

    def status(self, uuid: str) -> TicketStatus | None:
        status, body = self._request("GET", f"/tickets/{uuid}")
        if status == 404:
            return None
        if status != 200:
            raise HostAgentError(f"ovirt-imageio could not report ticket: {_error(body)}")
        info = json.loads(body)
        transferred = info.get("transferred")
        return TicketStatus(active=bool(info.get("active")),
                            connections=int(info.get("connections", 0)),
                            idle_time=int(info.get("idle_time", 0)),
                            transferred=int(transferred) if transferred is not None else None,
                            canceled=bool(info.get("canceled")))

    def extend(self, uuid: str, timeout: int) -> None:
        body = json.dumps({"timeout": timeout}).encode()
        status, answer = self._request("PATCH", f"/tickets/{uuid}", body)
        if status not in (200, 204):
            raise HostAgentError(f"ovirt-imageio could not extend the ticket: {_error(answer)}")

    def remove(self, uuid: str) -> None:
        """Cancel the ticket and forget it; idempotent. A request still running past the
        daemon's wait makes it answer 409: try again, the request is being cancelled."""
        for attempt in range(_REMOVE_ATTEMPTS):
            status, body = self._request("DELETE", f"/tickets/{uuid}")
            if status in (200, 204):
                return
            if status != 409 or attempt == _REMOVE_ATTEMPTS - 1:
                raise HostAgentError(f"ovirt-imageio could not remove the ticket: "
                                     f"{_error(body)}")
            time.sleep(1)

    def _request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        try:
            return self._send(method, path, body, timeout=self.timeout)
        except OSError as exc:
            raise HostAgentError(f"ovirt-imageio does not answer on its control socket: "
                                 f"{exc}") from None

    def _send(self, method: str, path: str, body: bytes | None, *,
              timeout: float) -> tuple[int, bytes]:
        conn = _UnixConnection(self.socket_path, timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()


def _error(body: bytes) -> str:
    return body.decode("utf-8", "replace").strip()[:300] or "no detail"
