"""A host on "another machine" joins with a one-time token: a lab namespace runs
``virtstick agent --join`` instead of a prepared libvirtd, gets its certificate from the
engine, starts libvirtd with TLS, and the engine adds it over qemu+tls://; a VM then
live-migrates to it from a lab host. (Two real machines were not available here.)"""

from __future__ import annotations

import shlex
import sys
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import HostKind, HostStatus, JobStatus
from appliance.web import create_app
from tests.hosts.labenv import Lab, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def engine_url(lab: Lab) -> Iterator[str]:
    """The engine served on the machine's address on the lab network (where the joining
    namespace can reach it)."""
    gateway = lab.engine.hosts.lab.network().gateway
    server = make_server(gateway, 0, create_app(lab.engine), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{gateway}:{server.server_port}"
    server.shutdown()
    thread.join()


def test_a_host_joins_with_a_token_and_takes_a_migration(lab: Lab, engine_url: str) -> None:
    token = lab.engine.joining.create_token(actor=SYSTEM)
    far = lab.engine.hosts.lab.find("far") or None
    assert far is None
    lab_net = lab.engine.hosts.lab
    root = lab_net.root / "h3"  # the next lab index: where this "machine" keeps its files
    command = shlex.join([
        sys.executable, "-m", "appliance.cli", "agent", "--join", engine_url,
        "--token", token, "--name", "far", "--address", lab_net.network().address(3),
        "--pki-dir", str(root / "pki"), "--libvirtd-conf", str(root / "etc/libvirtd.conf"),
        "--pid-file", str(root / "libvirtd.pid")])
    info = lab_net.start("far", agent_command=command)
    assert info.root == root
    wait_until(lambda: (h := lab.engine.ctx.store.hosts.by_name("far")) is not None
               and h.status is HostStatus.UP, 60, "the joined host up")
    host = lab.engine.ctx.store.hosts.get_by_name("far")
    assert host.kind is HostKind.REMOTE and host.libvirt_uri.startswith("qemu+tls://")
    assert host.host_uuid == info.host_uuid  # its own libvirtd, in its own namespace

    vm = lab.start_vm("joined1")
    assert lab.vm(vm.id).host_id == host.id  # it offers the machine's memory: the most
    lab.wait_ready(vm.id).close()
    for target in (lab.a.id, host.id):  # out of the joined host and back in, over TLS
        job = lab.engine.migrations.migrate(vm.id, actor=SYSTEM, host_id=target)
        finished = lab.engine.jobs.wait(job.id, 120)
        assert finished.status is JobStatus.FINISHED, finished.error
        assert lab.vm(vm.id).host_id == target

    with pytest.raises(Exception, match="not valid"):
        lab.engine.joining.join(token, name="again", address="10.0.0.1", csr_pem=b"")
