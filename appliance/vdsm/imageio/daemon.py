"""The ovirt-imageio daemon, and the front of its data port, as supervised subprocesses of
the service.

The daemon serves plain HTTP on a loopback port (and its unix socket for clients on this
machine); the front (``appliance.vdsm.imageio.front``) owns the public port, speaks TLS and
bounds what the daemon cannot (connections, request heads, bodies read before the ticket is
checked). A supervisor thread starts both, waits until the daemon's control socket answers,
and starts again whichever dies (the daemon's tickets die with it: the engine sees them gone
and ends their transfers; the public socket stays open here, so clients wait in its backlog
while a front restarts). Processes left by a service that was killed are found by their pid
files and stopped before new ones start.
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
from collections.abc import Callable
from pathlib import Path

from appliance.errors import HostAgentError
from appliance.vdsm.imageio import config
from appliance.vdsm.imageio.config import ImageioSettings
from appliance.vdsm.imageio.control import ControlClient
from appliance.vdsm.imageio.front import FrontSettings

log = logging.getLogger(__name__)

START_TIMEOUT = 30.0
# The daemon starts a thread per connection without a bound of its own. The front admits a
# bounded number; its open files are bounded too, a backstop (a connection takes a socket,
# and one to qemu-nbd once it holds a ticket).
MAX_OPEN_FILES = 512
_STOP_TIMEOUT = 10.0
_FRONT_MODULE = "appliance.vdsm.imageio.front"


class _Child:
    """One supervised process: its pid file and how it starts."""

    def __init__(self, name: str, run_dir: Path, spawn: Callable[[], subprocess.Popen[bytes]]
                 ) -> None:
        self.name = name
        self.pid_file = run_dir / f"{name}.pid"
        self._spawn = spawn
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> subprocess.Popen[bytes]:
        self.process = self._spawn()
        self.pid_file.write_text(f"{self.process.pid}\n")
        return self.process

    def terminate(self) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.pid_file.unlink(missing_ok=True)
        self.process = None


class ImageioDaemon:
    def __init__(self, settings: ImageioSettings, *, check_interval: float = 2.0) -> None:
        self.settings = settings
        self.control = ControlClient(settings.control_socket)
        self._check_interval = check_interval
        self._port = settings.port
        self._upstream_port = 0
        self._listener: socket.socket | None = None
        self._daemon = _Child("daemon", settings.run_dir, self._spawn_daemon)
        self._front = _Child("front", settings.run_dir, self._spawn_front)
        self._ready = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._failure = ""

    @property
    def port(self) -> int:
        """The public data port (the front's; known once started)."""
        return self._port

    @property
    def running(self) -> bool:
        return self._daemon.running and self._front.running

    def start(self) -> None:
        """Bind the data port (a taken one fails here) and start the daemon and its front in
        the background: their Python takes seconds to load under emulation, and nothing but
        a transfer waits for them (``wait_ready``)."""
        self.settings.run_dir.mkdir(parents=True, exist_ok=True)
        self.settings.run_dir.chmod(0o700)
        self.settings.nbd_dir.mkdir(exist_ok=True)
        for child in (self._front, self._daemon):
            _stop_stale(child.pid_file)
        self._listener = _listen(self.settings.host, self._port)
        self._port = int(self._listener.getsockname()[1])
        self._upstream_port = _free_port("127.0.0.1")
        self._thread = threading.Thread(target=self._supervise, name="imageio-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT + 5)
        self._front.terminate()
        self._daemon.terminate()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the daemon answers (it may be restarting)."""
        deadline = time.monotonic() + timeout
        while not (self.running and self.control.ping()):
            if self._failure:
                raise HostAgentError(f"ovirt-imageio did not start: {self._failure}\n"
                                     f"{self.log_tail()}")
            if time.monotonic() > deadline or self._stopping.is_set():
                raise HostAgentError("ovirt-imageio is not running; see "
                                     f"{self.settings.log_file}")
            time.sleep(0.1)

    def log_tail(self, lines: int = 15) -> str:
        texts = []
        for name in ("daemon.out", "front.out", self.settings.log_file.name):
            with contextlib.suppress(OSError):
                path = self.settings.run_dir / name
                texts += path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(texts)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            try:
                for child, start in ((self._daemon, self._start_daemon),
                                     (self._front, self._front.start)):
                    if not child.running:
                        if child.process is not None:
                            log.warning("imageio %s exited (%s); starting it again",
                                        child.name, child.process.returncode)
                        start()
            except HostAgentError as exc:
                self._failure = exc.detail
                log.error("ovirt-imageio did not start: %s\n%s", exc.detail, self.log_tail())
                return
            if not self._ready.is_set():
                self._ready.set()
                log.info("ovirt-imageio serves image transfers on %s:%d", self.settings.host,
                         self._port)
            self._stopping.wait(self._check_interval)

    def _start_daemon(self) -> subprocess.Popen[bytes]:
        process = self._daemon.start()
        with contextlib.suppress(OSError):  # only where we may (root, or our own process)
            resource.prlimit(process.pid, resource.RLIMIT_NOFILE,
                             (MAX_OPEN_FILES, MAX_OPEN_FILES))
        deadline = time.monotonic() + START_TIMEOUT
        while not self.control.ping():
            if process.poll() is not None:
                raise HostAgentError(f"ovirt-imageio exited with status {process.returncode}")
            if time.monotonic() > deadline or self._stopping.is_set():
                raise HostAgentError("ovirt-imageio did not answer on its control socket")
            time.sleep(0.1)
        return process

    def _spawn_daemon(self) -> subprocess.Popen[bytes]:
        conf_dir = config.write(self.settings, port=self._upstream_port)
        with contextlib.suppress(FileNotFoundError):
            self.settings.control_socket.unlink()
        return _popen([_executable(), "-c", str(conf_dir)],
                      self.settings.run_dir / "daemon.out")

    def _spawn_front(self) -> subprocess.Popen[bytes]:
        assert self._listener is not None
        limits, certs = self.settings.front_limits, self.settings.certificates
        path = self.settings.run_dir / "front.json"
        FrontSettings(fd=self._listener.fileno(), upstream_port=self._upstream_port,
                      cert_file=str(certs.cert), key_file=str(certs.key), total=limits.total,
                      per_address=limits.per_address,
                      header_seconds=limits.header_seconds).save(path)
        return _popen([sys.executable, "-m", _FRONT_MODULE, str(path)],
                      self.settings.run_dir / "front.out", pass_fds=(self._listener.fileno(),))


def _popen(command: list[str], out_path: Path, *, pass_fds: tuple[int, ...] = ()
           ) -> subprocess.Popen[bytes]:
    out = out_path.open("ab")
    try:
        # It dies with the service (SIGTERM when the supervisor thread's process ends, even
        # by SIGKILL), so a killed service leaves nothing holding the port and volumes.
        return subprocess.Popen(["setpriv", "--pdeathsig", "TERM", "--", *command],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, pass_fds=pass_fds)
    except OSError as exc:
        raise HostAgentError(f"cannot start {command[0]}: {exc}") from None
    finally:
        out.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HostAgentError(f"image transfers cannot listen on {host}:{port}: "
                             f"{exc.strerror} ([imageio] listen)") from None
    sock.listen(128)
    return sock


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
    """Stop a daemon (or front) a killed service left running with this run directory."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        pid_file.unlink(missing_ok=True)
        return
    if b"imageio" in cmdline and str(pid_file.parent).encode() in cmdline:
        log.info("stopping imageio %s %d left by an earlier service", pid_file.stem, pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)
