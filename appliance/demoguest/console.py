"""A client for the demo guest's serial console, as the appliance exposes it in libvirt:

    <serial type='unix'>
      <source mode='bind' path='SOCKET'/>
      <log file='LOGFILE' append='off'/>
      <target port='0'/>
    </serial>
    <console type='unix'>
      <source mode='bind' path='SOCKET'/>
      <target type='serial' port='0'/>
    </console>

Output is read from LOGFILE (written by virtlogd, complete from the first byte of the BIOS
on, whether or not anyone is connected); input goes through SOCKET (QEMU listens on it).

Checked with libvirt 9.0 / QEMU 7.2, qemu:///system as root, domain type 'qemu':
- libvirt opens the listening socket itself (as root) and hands it to QEMU, and virtlogd
  writes the log as root, so neither needs QEMU's user (libvirt-qemu) to write the directory.
- But QEMU opens the disks itself as libvirt-qemu: the directory holding the socket, log
  and disk overlays must be traversable by that user. pytest's tmp_path and mkdtemp() give
  0700 directories, so the appliance (and tests) use a directory with mode 0711 (or 0755)
  on every path component; libvirt chowns the image files themselves.
- QEMU reads from the socket only as fast as the guest's UART drains, and drops what it has
  not read yet when the client hangs up; so this client keeps one connection open (and
  drains what QEMU echoes to it) instead of connecting per line, and lingers briefly on
  close after the last send.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from pathlib import Path

POLL_INTERVAL = 0.05
# How long close() lets QEMU take the last line from the socket before hanging up.
LINGER_AFTER_SEND = 0.5


class GuestConsole:
    """Wait for patterns in the serial log and send command lines to the guest."""

    def __init__(self, socket_path: Path, log_path: Path) -> None:
        self.socket_path = socket_path
        self.log_path = log_path
        self._offset = 0  # bytes of the log already consumed by wait_for
        self._sock: socket.socket | None = None
        self._drainer: threading.Thread | None = None
        self._last_send = 0.0

    def __enter__(self) -> GuestConsole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def output(self) -> str:
        """Everything the guest has printed so far (latin-1: one char per byte)."""
        try:
            return self.log_path.read_bytes().decode("latin-1")
        except FileNotFoundError:
            return ""

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first match of pattern in output not yet consumed by an earlier wait_for.

        The match consumes the output up to its end, so waiting twice for the same line
        waits for a second occurrence (e.g. the ready line after a reboot). Only complete
        lines are searched: the UART delivers a line a few characters at a time, and
        "COUNTER=1" must not match while "COUNTER=12" is still arriving.
        """
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            text = self.output()
            if len(text) < self._offset:  # the log was recreated (domain started again)
                self._offset = 0
            complete = text.rfind("\n") + 1
            match = regex.search(text, self._offset, max(complete, self._offset))
            if match is not None:
                self._offset = match.end()
                return match
            if time.monotonic() >= deadline:
                raise TimeoutError(self._timeout_message(pattern, timeout, text))
            time.sleep(POLL_INTERVAL)

    def _timeout_message(self, pattern: str, timeout: float, text: str) -> str:
        tail = "\n".join(text.splitlines()[-15:])
        return (
            f"no output matching {pattern!r} on the guest's serial console ({self.log_path})"
            f" within {timeout:g} s; last lines:\n{tail}"
        )

    def send(self, line: str) -> None:
        """Send one command line to the guest (reconnects once if the domain restarted)."""
        data = line.rstrip("\n").encode() + b"\n"
        try:
            self._connection().sendall(data)
        except OSError:
            self._disconnect()
            self._connection().sendall(data)
        self._last_send = time.monotonic()

    def close(self) -> None:
        if self._sock is not None:
            remaining = self._last_send + LINGER_AFTER_SEND - time.monotonic()
            if remaining > 0:
                time.sleep(remaining)
        self._disconnect()

    def _connection(self) -> socket.socket:
        if self._sock is None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(str(self.socket_path))
            self._sock = sock
            # QEMU also writes the guest's output to us: read it so it never blocks.
            self._drainer = threading.Thread(target=_drain, args=(sock,), daemon=True)
            self._drainer.start()
        return self._sock

    def _disconnect(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # already gone with the domain
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
            self._sock = None
        if self._drainer is not None:
            self._drainer.join(timeout=1)
            self._drainer = None


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass  # closed by close() or by QEMU
