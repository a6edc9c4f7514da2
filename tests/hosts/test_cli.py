"""The many-hosts CLI commands against the lab's engine served over HTTP in-process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from appliance.engine.enums import HostStatus, JobStatus
from appliance.web import create_app
from tests.hosts.labenv import ADMIN_PASSWORD, Lab, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def url(lab: Lab) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(lab.engine), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def _cli(url: str, *args: str) -> str:
    env = {**os.environ, "VIRTSTICK_PASSWORD": ADMIN_PASSWORD, "VIRTSTICK_URL": url}
    result = subprocess.run([sys.executable, "-m", "appliance.cli", *args], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_lab_hosts_migration_and_policy_from_the_cli(lab: Lab, url: str) -> None:
    assert "lab-c: start done; status up" in _cli(url, "lab-host", "start", "lab-c",
                                                  "--memory", "512")
    listing = _cli(url, "hosts")
    assert "lab-c" in listing and "512 MiB" in listing
    vm = lab.start_vm("cli1")
    target = "lab-b" if lab.vm(vm.id).host_id == lab.a.id else "lab-a"
    assert "migration started" in _cli(url, "migrate", "cli1", "--host", target)
    wait_until(lambda: not lab.engine.ctx.store.jobs.where(status=JobStatus.STARTED), 120,
               "the migration job")
    assert lab.host(lab.vm(vm.id).host_id or "").name == target
    _cli(url, "policy", "power_saving", "HostsInReserve=1")
    cluster = lab.engine.clusters.default()
    assert cluster.scheduling_policy == "power_saving"
    assert cluster.scheduling_properties == (("HostsInReserve", "1"),)
    _cli(url, "policy", "none")
    lab_c = lab.engine.ctx.store.hosts.get_by_name("lab-c")
    assert "status down" in _cli(url, "lab-host", "stop", "lab-c")
    assert lab.host(lab_c.id).status is HostStatus.DOWN
    assert "status up" in _cli(url, "lab-host", "start", "lab-c")
