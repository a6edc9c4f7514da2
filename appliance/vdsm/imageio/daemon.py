"""The ovirt-imageio daemon as a supervised subprocess of the service.

A supervisor thread starts it with our configuration directory, waits until its control
socket answers, and starts it again if it dies (its tickets die with it: the engine sees
them gone and ends their transfers). A daemon left by a service that was killed is found
by its pid file and stopped before a new one starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.imageio import config
from appliance.vdsm.imageio.config import ImageioSettings
from appliance.vdsm.imageio.control import ControlClient

log = logging.getLogger(__name__)

START_TIMEOUT = 30.0
# The daemon starts a thread per connection without a bound of its own: its open files are
# bounded instead (a connection takes a socket, and one to qemu-nbd once it holds a ticket),
# so a flood of connections is refused, not served until the machine gives out.
MAX_OPEN_FILES = 512
_STOP_TIMEOUT = 10.0


class ImageioDaemon:
    def __init__(self, settings: ImageioSettings, *, check_interval: float = 2.0) -> None:
        self.settings = settings
        self.control = ControlClient(settings.control_socket)
        self._check_interval = check_interval
        self._process: subprocess.Popen[bytes] | None = None
        self._port = settings.port
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure = ""

    @property
    def port(self) -> int:
        """The data listener's port (known once started)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.run_dir.chmod(0o700)
        self.settings.nbd_dir.mkdir(exist_ok=True)
        _stop_stale(self._pid_file)
        if self._port == 0:
            self._port = _free_port(self.settings.host)
        self._thread = threading.Thread(target=self._supervise, name="imageio-supervisor",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._failure:
            self.stop()
            raise HostAgentError(f"ovirt-imageio did not start: {self._failure or 'timeout'}"
                                 f"\n{self.log_tail()}")
        log.info("ovirt-imageio serves image transfers on %s:%d", self.settings.host,
                 self._port)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT + 5)
        self._terminate()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the daemon answers (it may be restarting)."""
        deadline = time.monotonic() + timeout
        while not (self.running and self.control.ping()):
            if time.monotonic() > deadline or self._stopping.is_set():
                raise HostAgentError("ovirt-imageio is not running; see "
                                     f"{self.settings.log_file}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 15) -> str:
        texts = []
        for path in (self.settings.run_dir / "daemon.out", self.settings.log_file):
            with contextlib.suppress(OSError):
                texts += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(texts)

    @property
    def _pid_file(self) -> Path:
        return self.settings.run_dir / "daemon.pid"

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            if not self.running:
                if self._process is not None:
                    log.warning("ovirt-imageio exited (%s); starting it again",
                                self._process.returncode)
                try:
                    self._spawn()
                except HostAgentError as exc:
                    self._failure = exc.detail
                    self._ready.set()
                    return
                self._ready.set()
            self._stopping.wait(self._check_interval)

    def _spawn(self) -> None:
        conf_dir = config.write(self.settings, port=self._port)
        with contextlib.suppress(FileNotFoundError):
            self.settings.control_socket.unlink()
        out = (self.settings.run_dir / "daemon.out").open("ab")
        try:
            self._process = subprocess.Popen([_executable(), "-c", str(conf_dir)],
                                             stdin=subprocess.DEVNULL, stdout=out,
                                             stderr=subprocess.STDOUT)
        finally:
            out.close()
        self._pid_file.write_text(f"{self._process.pid}\n")
        with contextlib.suppress(OSError):  # only where we may (root, or our own process)
            resource.prlimit(self._process.pid, resource.RLIMIT_NOFILE,
                             (MAX_OPEN_FILES, MAX_OPEN_FILES))
        deadline = time.monotonic() + START_TIMEOUT
        while not self.control.ping():
            if self._process.poll() is not None:
                raise HostAgentError(f"ovirt-imageio exited with status "
                                     f"{self._process.returncode}")
            if time.monotonic() > deadline or self._stopping.is_set():
                raise HostAgentError("ovirt-imageio did not answer on its control socket")
            time.sleep(0.1)

    def _terminate(self) -> None:
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._pid_file.unlink(missing_ok=True)
        self._process = None


def _executable() -> str:
    beside = Path(sys.executable).with_name("ovirt-imageio")
    if beside.is_file():
        return str(beside)
    found = shutil.which("ovirt-imageio")
    if found is None:
        raise HostAgentError("ovirt-imageio is not installed (the PyPI package ovirt-imageio "
                             "carries the daemon)")
    return found


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _stop_stale(pid_file: Path) -> None:
    """Stop a daemon a killed service left running with this configuration directory."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        pid_file.unlink(missing_ok=True)
        return
    if b"ovirt-imageio" in cmdline and str(pid_file.parent).encode() in cmdline:
        log.info("stopping ovirt-imageio %d left by an earlier service", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
