"""Fixtures: a real engine on the shared libvirtd (QEMU TCG), state in a private directory.

QEMU runs as libvirt's unprivileged user, so state lives under /var/tmp with traversable
directories. Every domain a test makes carries a unique prefix; teardown destroys exactly
those. The sampler runs every second so tests see rounds quickly.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ovirtsdk4 as sdk
import pytest
import waitress

from appliance.cli import development_config
from appliance.config import Config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import DEMO_TEMPLATE, Engine
from appliance.engine.enums import TemplateStatus, VmStatus
from appliance.errors import VirtStickError
from appliance.security.passwords import hash_password
from appliance.web import create_app

ADMIN_PASSWORD = "monitoring-test-password"


def make_config(state_dir: Path, prefix: str, *, demo_disk: str = "",
                **sections: Any) -> Config:
    return development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": demo_disk},
        auth={"admin_password_hash": hash_password(ADMIN_PASSWORD)},
        monitoring={"interval_seconds": 1, **sections.pop("monitoring", {})}, **sections)


@pytest.fixture
def config(state_dir: Path, domain_prefix: str) -> Config:
    return make_config(state_dir, domain_prefix)


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    engine = Engine(config)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def demo_engine(state_dir: Path, domain_prefix: str, demo_disk: Path) -> Iterator[Engine]:
    """An engine whose "Demo" template (imported by a job at start) is ready."""
    engine = Engine(make_config(state_dir, domain_prefix, demo_disk=str(demo_disk)))
    engine.start()
    deadline = time.monotonic() + 120
    while (template := engine.ctx.store.templates.by_name(DEMO_TEMPLATE)) is None or \
            template.status is not TemplateStatus.OK:
        assert time.monotonic() < deadline, "the Demo template was not imported in 120 s"
        time.sleep(0.2)
    yield engine
    for vm in engine.ctx.store.vms.all():
        if vm.status is not VmStatus.DOWN:
            with contextlib.suppress(VirtStickError):
                engine.vms.stop(vm.id, actor=SYSTEM)
    engine.stop()


@dataclass(frozen=True)
class Served:
    engine: Engine
    url: str  # http://127.0.0.1:PORT

    def connect(self) -> sdk.Connection:
        return sdk.Connection(url=f"{self.url}/ovirt-engine/api", username="admin@internal",
                              password=ADMIN_PASSWORD)


def serve(engine: Engine) -> Iterator[Served]:
    """The engine's web application on a free local port, in this process."""
    server = waitress.create_server(create_app(engine), listen="127.0.0.1:0", threads=4)
    port = server.socket.getsockname()[1]
    def run() -> None:
        with contextlib.suppress(OSError, ValueError):  # close() pulls the socket from select
            server.run()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield Served(engine, f"http://127.0.0.1:{port}")
    finally:
        server.close()
        thread.join(timeout=10)


@pytest.fixture
def served(engine: Engine) -> Iterator[Served]:
    yield from serve(engine)
