"""A real appliance for the API tests: ``virtstick serve`` as a subprocess on real libvirt
(QEMU TCG), driven by oVirt's own SDK and by plain HTTP for what the SDK cannot send."""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from appliance.cli import development_config
from appliance.config import Config, to_toml
from appliance.engine.engine import DEMO_TEMPLATE
from tests import sandbox

ADMIN_PASSWORD = "admin-" + secrets.token_hex(6)
TOKEN_IDLE_MINUTES = 0.1  # 6 s: tokens die during the session; the SDK logs in again by itself


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> object:
        return json.loads(self.text)


@dataclass(frozen=True)
class Appliance:
    url: str  # http://127.0.0.1:PORT
    https_url: str
    state_dir: Path
    config: Config
    prefix: str

    @property
    def api(self) -> str:
        return f"{self.url}/ovirt-engine/api"

    def connect(self, username: str = "admin@internal", password: str = ADMIN_PASSWORD,
                **kwargs: object) -> sdk.Connection:
        return sdk.Connection(url=self.api, username=username, password=password, **kwargs)

    def request(self, method: str, path: str, body: bytes | str | None = None, *,
                token: str | None = None, basic: tuple[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        """One plain HTTP request to a path under the server root."""
        parsed = urllib.parse.urlparse(self.url)
        conn = http.client.HTTPConnection(parsed.netloc, timeout=60)
        sent = {"Content-Type": "application/xml", "Accept": "application/xml",
                **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        if basic is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(
                f"{basic[0]}:{basic[1]}".encode()).decode()
        data = body.encode() if isinstance(body, str) else body
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                      response.read().decode("utf-8", "replace"))
        conn.close()
        return reply

    def token(self, username: str = "admin@internal", password: str = ADMIN_PASSWORD) -> str:
        reply = self.login(username, password)
        data = reply.json()
        assert isinstance(data, dict) and "access_token" in data, reply.text
        return str(data["access_token"])

    def login(self, username: str, password: str) -> Reply:
        form = urllib.parse.urlencode({"grant_type": "password", "scope": "ovirt-app-api",
                                       "username": username, "password": password})
        return self.request("POST", "/ovirt-engine/sso/oauth/token", form, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_appliance(base: Path, *, prefix: str,
                    launcher: tuple[str, ...] = ("-m", "appliance.cli"),
                    **sections: dict[str, object]) -> tuple[subprocess.Popen[bytes], Appliance]:
    """``virtstick serve`` on free ports; ``launcher``: the Python arguments before ``serve``."""
    os.environ["VIRTSTICK_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    port, https_port = free_port(), free_port()
    config = development_config(base).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix},
        http={"listen": f"127.0.0.1:{port}", "https_listen": f"127.0.0.1:{https_port}"},
        auth={"token_idle_minutes": TOKEN_IDLE_MINUTES}).replace(**sections)
    path = base / "virtstick.toml"
    path.write_text(to_toml(config))
    log = open(base / "serve.log", "wb")  # noqa: SIM115 - kept open for the process
    process = subprocess.Popen([sys.executable, *launcher, "serve", "--config", str(path)],
                               stdout=log, stderr=subprocess.STDOUT)
    appliance = Appliance(url=f"http://127.0.0.1:{port}",
                          https_url=f"https://127.0.0.1:{https_port}", state_dir=base,
                          config=config, prefix=prefix)
    deadline = time.monotonic() + 240  # libvirtd probes QEMU for ~90 s after a restart
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("virtstick serve died:\n" + (base / "serve.log").read_text())
        try:
            if appliance.request("GET", "/health").status == 200:
                return process, appliance
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("virtstick serve did not answer:\n" + (base / "serve.log").read_text())


def stop_appliance(process: subprocess.Popen[bytes], prefix: str) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
    sandbox.destroy_domains(prefix)


@pytest.fixture(scope="session")
def appliance(demo_disk: Path) -> Iterator[Appliance]:
    """One ``virtstick serve`` for the API tests, which imports the demo guest as "Demo"."""
    base = sandbox.state_dir("vs-api-")
    prefix = f"vsapi{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix,
                                       appliance={"demo_disk": str(demo_disk)})
    try:
        yield running
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def admin(appliance: Appliance) -> Iterator[sdk.Connection]:
    connection = appliance.connect()
    try:
        yield connection
    finally:
        connection.close()


def wait_for_demo(connection: sdk.Connection, timeout: float = 180) -> types.Template:
    """The demo template, once the import the appliance started with has finished."""
    templates = connection.system_service().templates_service()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = templates.list(search=f"name={DEMO_TEMPLATE}")
        if found and found[0].status == types.TemplateStatus.OK:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"the {DEMO_TEMPLATE} template was not imported in {timeout:g} s")


@pytest.fixture
def demo_template(admin: sdk.Connection) -> types.Template:
    return wait_for_demo(admin)


def unique(name: str) -> str:
    return f"{name}-{secrets.token_hex(3)}"


@contextlib.contextmanager
def blank_vm(admin: sdk.Connection, prefix: str, memory: int) -> Iterator[types.Vm]:
    """A VM from Blank in the Default cluster, stopped and removed afterwards."""
    vms = admin.system_service().vms_service()
    made = vms.add(types.Vm(name=unique(prefix), cluster=types.Cluster(name="Default"),
                            template=types.Template(name="Blank"), memory=memory))
    try:
        yield made
    finally:
        service = vms.vm_service(made.id)
        with contextlib.suppress(sdk.Error):
            service.stop()
        with contextlib.suppress(sdk.NotFoundError):
            service.remove()
