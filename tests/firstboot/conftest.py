"""Fixtures for the firstboot wizard's tests: settings pointing into tmp_path, a real
NetworkManager lab (nmlab.py), facts of a made-up machine for validation."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstboot.answers import Facts
from firstboot.settings import WizardSettings
from tests.firstboot.nmlab import Lab, network_lab


@pytest.fixture
def settings(tmp_path: Path) -> WizardSettings:
    """Every path in tmp_path; the service 'start' writes a marker file."""
    marker = tmp_path / "service-started"
    return WizardSettings(
        config_path=tmp_path / "etc/virtstick/virtstick.toml",
        storage_path=tmp_path / "storage",
        start_command=("touch", str(marker)),
        etc_dir=tmp_path / "etc",
        set_live_hostname=False,
        cmdline_path=tmp_path / "cmdline",
        by_label_dir=tmp_path / "by-label",
        baked_seed=tmp_path / "etc/virtstick/seed.toml",
        connectivity_timeout_s=5,
        rollback_timeout_s=30,
    )


@pytest.fixture
def lab() -> Iterator[Lab]:
    with network_lab() as made:
        yield made


@pytest.fixture
def lab_settings(settings: WizardSettings, lab: Lab) -> WizardSettings:
    return dataclasses.replace(settings, system_bus=lab.bus_address, probe_netns=lab.host_ns)


@pytest.fixture
def facts() -> Facts:
    return Facts(ram_mib=8192, interfaces=frozenset({"eth0", "eth1"}), default_interface="eth0",
                 disks=frozenset({"/dev/sdb"}))
