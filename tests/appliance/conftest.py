"""Fixtures: a real engine on real libvirtd (QEMU TCG), its state in a private directory.

QEMU runs as libvirt's unprivileged user, so state lives under /var/tmp with traversable
directories (pytest's own tmp_path is private to root). Every libvirt domain a test makes
carries a unique prefix; teardown destroys exactly those.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from appliance.cli import development_config
from appliance.config import Config
from appliance.engine.engine import Engine

URI = "qemu:///system"


@pytest.fixture
def state_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="virtstick-test-", dir="/var/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def domain_prefix() -> Iterator[str]:
    prefix = f"t{secrets.token_hex(3)}-"
    yield prefix
    destroy_domains(prefix)


def destroy_domains(prefix: str) -> None:
    conn = libvirt.open(URI)
    try:
        for dom in conn.listAllDomains():
            if dom.name().startswith(prefix):
                with contextlib.suppress(libvirt.libvirtError):
                    dom.destroy()
    finally:
        conn.close()


def make_config(state_dir: Path, prefix: str, **appliance: object) -> Config:
    return development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": "",
                   **appliance})


@pytest.fixture
def config(state_dir: Path, domain_prefix: str) -> Config:
    return make_config(state_dir, domain_prefix)


@pytest.fixture
def engine(config: Config) -> Iterator[Engine]:
    engine = Engine(config)
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture(scope="session")
def demo_disk() -> Path:
    from appliance.demoguest import build
    from tests.appliance.guests import DEMO_CACHE

    return build(DEMO_CACHE).disk
