"""The service under test: ``virtstick serve`` in a subprocess, on free ports, with its own
state directory and domain prefix, and a way to wait for what it does."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import libvirt

from appliance import config as configuration
from appliance.cli import ADMIN_PASSWORD_ENV, development_config

ADMIN = "admin@internal"
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "output"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    state_dir: Path
    url: str
    console_port: int
    prefix: str
    admin_password: str
    log: Path
    https_url: str = ""

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service ended: {self.log.read_text()[-3000:]}")
            # Our own process must say it serves there: on a shared machine another service
            # may have taken the port between our pick and our bind.
            if f"serving on {self.url}" not in self.log.read_text(errors="replace"):
                time.sleep(0.2)
                continue
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                    if json.load(response)["status"] == "ok":
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise TimeoutError("the service did not answer /health")

    def wait_guest_ready(self, vm_id: str, timeout: float = 120) -> None:
        """The demo guest says so on its serial console once its banner is on the screen and
        its power button works."""
        log = self.state_dir / "consoles" / f"{vm_id}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log.exists() and b"VIRTSTICK-GUEST-READY" in log.read_bytes():
                return
            time.sleep(0.5)
        raise TimeoutError(f"the demo guest {vm_id} did not become ready")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        try:
            destroy_domains(self.prefix)
        finally:
            self._clean_up()

    def _clean_up(self) -> None:
        # The last run's log stays for a look after a failure; the state goes.
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.log, OUTPUT / "service.log")
        shutil.rmtree(self.state_dir, ignore_errors=True)


def start_service(demo_disk: Path, *, ticket_seconds: int = 6, https: bool = False) -> Service:
    """``https``: the service speaks HTTPS too (``Service.https_url``), with its own CA.
    Ports are picked free, and picked again if another process took one meanwhile."""
    for attempt in range(3):
        try:
            return _start_service(demo_disk, ticket_seconds=ticket_seconds, https=https)
        except RuntimeError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _start_service(demo_disk: Path, *, ticket_seconds: int, https: bool) -> Service:
    state_dir = Path(tempfile.mkdtemp(prefix="vs-webui-", dir="/var/tmp"))
    state_dir.chmod(0o755)  # QEMU (libvirt-qemu) must reach the disks below it
    prefix = f"w{secrets.token_hex(3)}-"
    port, console_port, https_port = free_port(), free_port(), free_port()
    password = secrets.token_urlsafe(12)
    os.environ[ADMIN_PASSWORD_ENV] = password
    try:
        config = development_config(state_dir)
    finally:
        del os.environ[ADMIN_PASSWORD_ENV]
    config = config.replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": str(demo_disk)},
        http={"listen": f"127.0.0.1:{port}", "console_listen": f"127.0.0.1:{console_port}",
              "https_listen": f"127.0.0.1:{https_port}" if https else "",
              "console_tls_listen": "127.0.0.1:0"},
        auth={"console_ticket_seconds": ticket_seconds})
    config_path = state_dir / "virtstick.toml"
    config_path.write_text(configuration.to_toml(config))
    log = state_dir / "service.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "serve", "--config", str(config_path)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    service = Service(process=process, state_dir=state_dir, url=f"http://127.0.0.1:{port}",
                      console_port=console_port, prefix=prefix, admin_password=password,
                      log=log, https_url=f"https://127.0.0.1:{https_port}" if https else "")
    try:
        service.wait_ready()
    except Exception:
        service.stop()
        raise
    return service


def destroy_domains(prefix: str) -> None:
    """Only the domains this test run made (its unique prefix): libvirtd is shared."""
    conn = libvirt.open("qemu:///system")
    try:
        for dom in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            if dom.name().startswith(prefix):
                with contextlib.suppress(libvirt.libvirtError):
                    dom.destroy()
    finally:
        conn.close()


def screenshot(vm_id: str) -> tuple[str, bytes]:
    """The guest's screen as libvirt sees it: (MIME type, image), PNG or PPM by QEMU's age."""
    conn = libvirt.open("qemu:///system")
    try:
        dom = conn.lookupByUUIDString(vm_id)
        stream = conn.newStream(0)
        mime = dom.screenshot(stream, 0, 0)
        chunks = []
        while True:
            data = stream.recv(1 << 20)
            if not data:
                break
            chunks.append(data)
        stream.finish()
    finally:
        conn.close()
    return str(mime), b"".join(chunks)
