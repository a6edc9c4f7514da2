"""Fixtures for the many-hosts tests: the demo guest disk and a lab of two hosts
(see labenv.py); everything is torn down, the lab's namespaces and veths included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hosts.labenv import Lab, lab_engine


@pytest.fixture
def lab(demo_disk: Path) -> Iterator[Lab]:
    """An engine whose own host is in maintenance and two lab hosts of 1 GiB each."""
    with lab_engine(demo_disk) as the_lab:
        yield the_lab
