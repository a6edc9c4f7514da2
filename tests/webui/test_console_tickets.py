"""Console tickets live for the configured seconds on the engine's clock: through the real
console proxy to a running VM's display, one still in time opens it and one past its life is
refused, without waiting (the test moves the clock; the engine and the proxy run here)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from appliance.engine.authz import Actor
from appliance.engine.clock import ManualClock
from appliance.engine.engine import Engine
from appliance.engine.model import MiB
from appliance.engine.vms import VmCreate
from appliance.web import create_app
from tests.monitoring.conftest import ADMIN_PASSWORD, make_config
from webui import start_console_proxy
from webui.session import COOKIE_NAME


@dataclass(frozen=True)
class Console:
    engine: Engine
    clock: ManualClock
    admin: Actor
    vm_id: str
    port: int  # the console proxy's
    cookie: str  # the admin's portal session

    def open(self, token: str) -> bytes:
        """The display's first words through the proxy: the RFB version."""
        with connect(f"ws://127.0.0.1:{self.port}/websockify/{token}", open_timeout=10,
                     additional_headers={"Cookie": f"{COOKIE_NAME}={self.cookie}"}) as ws:
            greeting = ws.recv(timeout=10)
        assert isinstance(greeting, bytes)
        return greeting


@pytest.fixture
def console(state_dir: Path, domain_prefix: str) -> Iterator[Console]:
    clock = ManualClock(time.time())
    engine = Engine(make_config(state_dir, domain_prefix), clock=clock)
    engine.start()
    proxies = []
    try:
        app = create_app(engine)
        proxies = start_console_proxy(app, engine)
        admin = engine.users.authenticate("admin@internal", ADMIN_PASSWORD)
        cluster = engine.clusters.default()
        # No disk: the firmware finds nothing to boot, but the display is there.
        vm = engine.vms.create(VmCreate(name="ticketed", cluster_id=cluster.id,
                                        memory=64 * MiB), actor=admin)
        engine.vms.start(vm.id, actor=admin)
        serializer = SecureCookieSessionInterface().get_signing_serializer(app)
        assert serializer is not None
        cookie = str(serializer.dumps({"token": engine.users.issue_token(admin)}))
        yield Console(engine, clock, admin, vm.id, proxies[0].port, cookie)
        engine.vms.stop(vm.id, actor=admin)
    finally:
        for proxy in proxies:
            proxy.stop()
        engine.stop()


def test_a_ticket_opens_the_console_in_time_and_not_after(console: Console) -> None:
    consoles = console.engine.consoles
    in_time = consoles.issue(console.vm_id, actor=console.admin)
    late = consoles.issue(console.vm_id, actor=console.admin)
    console.clock.advance(consoles.ttl - 1)
    assert console.open(in_time.token).startswith(b"RFB 003.")
    console.clock.advance(2)
    with pytest.raises(InvalidStatus) as refused:
        console.open(late.token)
    assert refused.value.response.status_code == 401
    assert b"expired" in refused.value.response.body
