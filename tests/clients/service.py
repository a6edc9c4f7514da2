"""The live service oVirt's clients are pointed at: ``virtstick serve`` on real libvirt
(QEMU TCG) with the demo template, over HTTPS with the appliance's own CA, and an access
log (accesslog.py) so a failure names the request the service refused."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ovirtsdk4 as sdk

from appliance.vdsm.labhost import Lab
from tests import sandbox
from tests.api.conftest import (
    ADMIN_PASSWORD,
    Appliance,
    start_appliance,
    stop_appliance,
    wait_for_demo,
)

ADMIN = "admin@internal"


@dataclass(frozen=True)
class Request:
    """One line of the access log."""

    method: str
    path: str
    query: str
    status: int
    request: str
    reply: str

    def line(self) -> str:
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status}"


@dataclass(frozen=True)
class ClientService:
    appliance: Appliance
    ca_file: Path
    access_log: Path
    host_name: str  # the appliance's own host, as the API names it
    password: str = ADMIN_PASSWORD  # admin@internal's

    @property
    def engine_url(self) -> str:
        return self.appliance.https_url

    @property
    def api_url(self) -> str:
        return f"{self.appliance.https_url}/ovirt-engine/api"

    def connect(self, **kwargs: object) -> sdk.Connection:
        return sdk.Connection(url=self.api_url, username=ADMIN, password=self.password,
                              ca_file=str(self.ca_file), **kwargs)

    def log_offset(self) -> int:
        return self.access_log.stat().st_size if self.access_log.exists() else 0

    def requests_since(self, offset: int) -> list[Request]:
        if not self.access_log.exists():
            return []
        with self.access_log.open("rb") as log:
            log.seek(offset)
            lines = log.read().decode("utf-8", "replace").splitlines()
        records = []
        for line in lines:
            with contextlib.suppress(ValueError):
                data = json.loads(line)
                records.append(Request(data["method"], data["path"], data["query"],
                                       data["status"], data["request"], data["reply"]))
        return records


@contextlib.contextmanager
def running_service(demo_disk: Path) -> Iterator[ClientService]:
    base = sandbox.state_dir("vs-clients-")
    prefix = sandbox.domain_prefix("c")
    access_log = base / "access.log"
    process, appliance = start_appliance(
        base, prefix=prefix, launcher=("-m", "tests.clients.accesslog", str(access_log)),
        appliance={"demo_disk": str(demo_disk)},
        # Ansible keeps one token for a whole play: the default idle time, not the API tests' 6 s.
        auth={"token_idle_minutes": 30})
    try:
        service = _ready(appliance, access_log)
        yield service
    finally:
        stop_appliance(process, prefix)
        _teardown_lab(base)
        shutil.rmtree(base, ignore_errors=True)


def _ready(appliance: Appliance, access_log: Path) -> ClientService:
    reply = appliance.request(
        "GET", "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA")
    assert reply.status == 200, reply.text
    ca_file = appliance.state_dir / "client-ca.pem"
    ca_file.write_text(reply.text)
    connection = sdk.Connection(url=f"{appliance.https_url}/ovirt-engine/api", username=ADMIN,
                                password=ADMIN_PASSWORD, ca_file=str(ca_file))
    try:
        wait_for_demo(connection)
        host = connection.system_service().hosts_service().list()[0]
    finally:
        connection.close()
    return ClientService(appliance, ca_file, access_log, str(host.name))


def _teardown_lab(base: Path) -> None:
    """Lab hosts outlive the engine (as other machines' hosts would): stop them here."""
    state = base / "lab" / "network.json"
    if not state.exists():
        return
    token = json.loads(state.read_text())["token"]
    with contextlib.suppress(Exception):
        Lab(base / "lab", token=token).teardown()
