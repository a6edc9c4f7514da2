"""Fixtures for the firstboot wizard's tests: settings pointing into tmp_path, a real
NetworkManager lab (nmlab.py), facts of a made-up machine for validation."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from firstboot.answers import Facts
from firstboot.hardware import CpuVirtualization, DataSource, Hardware, Nic
from firstboot.settings import WizardSettings
from tests.firstboot.nmlab import Lab, network_lab


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[WizardSettings]:
    """Every path in tmp_path; the service 'start' writes a marker file. A storage tmpfs a
    failed test left mounted is unmounted (zram tests release their own device)."""
    marker = tmp_path / "service-started"
    made = WizardSettings(
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
        # As on a machine up for long: the seed search settles udev and looks once; the
        # tests of waiting for late devices set their own machine age.
        seed_wait_until_uptime_s=0,
        seed_settle_timeout_s=5,
    )
    yield made
    if os.path.ismount(made.storage_path):
        subprocess.run(["umount", str(made.storage_path)], check=False)


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


@pytest.fixture
def lab_hardware(lab: Lab) -> Hardware:
    """The lab machine as the welcome step would see it from inside its namespace."""
    nic = Nic(name=lab.nic, mac="02:00:00:00:00:01", driver="veth", physical=True,
              wireless=False, carrier=True, speed_mbps=None, model="", source=DataSource.SYSFS)
    return Hardware(cpu=CpuVirtualization.INTEL_VTX, kvm_device=True, ram_mib=8192,
                    nics=(nic,), disks=())


def settings_toml(settings: WizardSettings) -> str:
    """The settings as the file ``--settings`` reads."""
    lines = []
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, bool):
            lines.append(f"{f.name} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{f.name} = {value}")
        elif isinstance(value, tuple):
            lines.append(f"{f.name} = [{', '.join(json.dumps(v) for v in value)}]")
        else:
            lines.append(f"{f.name} = {json.dumps(str(value))}")
    return "\n".join(lines) + "\n"
