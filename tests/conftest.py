"""Fixtures every area's tests share (see tests/sandbox.py for what they stand on)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import sandbox

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    """A private state directory QEMU can traverse, removed afterwards."""
    path = sandbox.state_dir("virtstick-test-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def domain_prefix() -> Iterator[str]:
    """A unique prefix for the test's libvirt domains; they are destroyed afterwards."""
    prefix = sandbox.domain_prefix("t")
    yield prefix
    sandbox.destroy_domains(prefix)


@pytest.fixture(scope="session")
def demo_disk() -> Path:
    """The demo guest's disk, built into the checkout's cache on first use (then kept)."""
    from appliance.demoguest import build

    return build(REPO / ".cache" / "demoguest").disk
