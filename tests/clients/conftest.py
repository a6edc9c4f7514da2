"""Fixtures for oVirt's own clients: one live service for the session (service.py), and a
``world`` per test that makes what the client expects and resets the lab afterwards."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import pytest

from tests.clients.runner import REPO_ROOT, examples_available, missing_examples_hint
from tests.clients.service import ClientService, running_service
from tests.clients.world import Baseline, World

OUTPUT = REPO_ROOT / "tests" / "output" / "clients"


@pytest.fixture(scope="session")
def service(demo_disk: Path) -> Iterator[ClientService]:
    assert examples_available(), missing_examples_hint()
    with running_service(demo_disk) as running:
        yield running


@pytest.fixture(scope="session")
def admin(service: ClientService) -> Iterator[sdk.Connection]:
    connection = service.connect()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(scope="session")
def baseline(service: ClientService, admin: sdk.Connection) -> Baseline:
    return World(service, admin).baseline()


@pytest.fixture
def world(service: ClientService, admin: sdk.Connection,
          baseline: Baseline) -> Iterator[World]:
    the_world = World(service, admin)
    yield the_world
    left = the_world.reset(baseline)
    if left:
        warnings.warn("the lab was not fully reset: " + "; ".join(left), stacklevel=1)


@pytest.fixture(scope="session")
def output() -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return OUTPUT
