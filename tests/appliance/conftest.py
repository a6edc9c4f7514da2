"""Fixtures: a real engine on real libvirtd (QEMU TCG), its state in a private directory.

QEMU runs as libvirt's unprivileged user, so state lives under /var/tmp with traversable
directories (pytest's own tmp_path is private to root). Every libvirt domain a test makes
carries a unique prefix; teardown destroys exactly those.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import development_config
from appliance.config import Config
from appliance.engine.engine import Engine


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
