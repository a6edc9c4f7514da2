"""qemu-nbd serving one volume to the daemon on a unix socket, as vdsm's NBD server does.

Serving through qemu-nbd lets a client move guest data whatever the volume's format: qemu-nbd
reads and writes qcow2 (converting on the fly, allocation reported as extents, zeroes as
holes) and raw alike. A ``cow`` transfer serves the volume file's own bytes (format raw over
the qcow2 file), as oVirt's file backend does; qemu-nbd avoids that backend's O_DIRECT, which
older kernels' tmpfs (the stick's RAM storage) does not offer.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import HostAgentError

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
# qemu-nbd allocates a buffer per request (the daemon sends up to 8 MiB at a time). With
# glibc's defaults such buffers are mmap'ed and unmapped each time, and every request then
# faults in and zeroes fresh pages: a third of qemu-nbd's CPU time per GiB (measured in
# tests/bench/transfers.py). Kept in the heap, and the heap not trimmed on every free, the
# pages are reused; qemu-nbd keeps about what its requests in flight hold (tens of MiB).
_MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=8388608"


@dataclass(frozen=True)
class NbdExport:
    path: Path  # the file qemu-nbd opens
    format: str  # how it reads it: "qcow2" or "raw"
    read_only: bool
    backing_chain: bool = True  # False: only this qcow2 layer (a shallow download)

    def image(self) -> str:
        """The qemu ``json:`` filename: every option explicit, nothing probed."""
        spec: dict[str, Any] = {"driver": self.format,
                                "file": {"driver": "file", "filename": str(self.path)}}
        if self.format == "qcow2" and not self.backing_chain:
            spec["backing"] = None
        return "json:" + json.dumps(spec)


class NbdServer:
    def __init__(self, socket_path: Path, export: NbdExport, *, shared: int) -> None:
        self.socket_path = socket_path
        self.export = export
        self.shared = shared
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nbd:unix:{self.socket_path}"

    @property
    def pid_file(self) -> Path:
        return self.socket_path.with_suffix(".pid")

    def start(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        command = ["qemu-nbd", f"--socket={self.socket_path}", "--persistent",
                   f"--shared={self.shared}", "--cache=writeback", "--aio=threads",
                   "--discard=unmap", "--detect-zeroes=unmap"]
        if self.export.read_only:
            command.append("--read-only")
        if self.export.format == "qcow2":
            command.append("--allocation-depth")
        command.append(self.export.image())
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                             env=_environment())
        except FileNotFoundError:
            raise HostAgentError("qemu-nbd is not installed (Debian package qemu-utils)") \
                from None
        self.pid_file.write_text(f"{self._process.pid}\n")
        deadline = time.monotonic() + _START_TIMEOUT
        while not self.socket_path.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                error = self._stop_and_read_error()
                raise HostAgentError(f"qemu-nbd could not serve {self.export.path.name}: "
                                     f"{error or 'no socket after 10 s'}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving; writes that qemu-nbd acknowledged are in the file when this returns."""
        self._stop_and_read_error()

    def _stop_and_read_error(self) -> str:
        process = self._process
        error = ""
        if process is not None:
            if process.poll() is None:
                process.terminate()
            try:
                _, stderr = process.communicate(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
            error = (stderr or b"").decode("utf-8", "replace").strip()[-500:]
            self._process = None
        self.socket_path.unlink(missing_ok=True)
        self.pid_file.unlink(missing_ok=True)
        return error


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    env["GLIBC_TUNABLES"] = ":".join([_MALLOC_TUNABLES, *tunables])  # theirs win
    return env


def stop_stale(directory: Path) -> None:
    """Stop qemu-nbd servers a killed service left behind in ``directory``."""
    for pid_file in directory.glob("*.pid"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"qemu-nbd" in cmdline and str(directory).encode() in cmdline:
                os.kill(pid, signal.SIGTERM)
        pid_file.unlink(missing_ok=True)
    for sock in directory.glob("*.sock"):
        sock.unlink(missing_ok=True)
