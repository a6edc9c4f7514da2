"""Fixtures every area's tests share (see tests/sandbox.py for what they stand on)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import sandbox


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
