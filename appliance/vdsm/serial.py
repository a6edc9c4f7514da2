"""A running VM's first serial port, as the host agent exposes it: QEMU listens on a unix
socket (one client at a time; what the guest prints goes to it) and virtlogd keeps a log of
everything printed (see ``domxml.SerialConsole``), so a client joining late reads the
recent past from the log and the rest from the socket."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from appliance.errors import HostAgentError

CONNECT_SECONDS = 5.0


def connect(socket_path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_SECONDS)
    try:
        sock.connect(str(socket_path))
    except OSError as exc:
        sock.close()
        raise HostAgentError(f"the serial console does not answer ({exc.strerror or exc})"
                             ) from None
    sock.settimeout(None)
    return sock


def log_tail(log_path: Path, *, limit: int) -> bytes:
    """The last ``limit`` bytes the guest printed, from a line's start where one is near."""
    try:
        with log_path.open("rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - limit))
            data = log.read(limit)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise HostAgentError(f"the serial console's log cannot be read: {exc}") from None
    if len(data) == limit:
        newline = data.find(b"\n")
        if 0 <= newline < limit // 4:
            data = data[newline + 1:]
    return data
