"""Configuration: the file firstboot writes round-trips, and mistakes are named precisely."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance import config
from appliance.engine.enums import MaintenancePolicy
from appliance.errors import ConfigError


def test_written_configuration_reads_back_the_same(tmp_path: Path) -> None:
    original = config.Config().replace(storage={"path": "/run/x", "backing": "zram"},
                                       http={"listen": "0.0.0.0:80"})
    path = tmp_path / "virtstick.toml"
    path.write_text(config.to_toml(original))
    assert config.load(path) == original


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[storage]\nbacking = 'floppy'\n", "backing"),
        ("[storage]\noverkommit = 3\n", "unknown key(s) overkommit"),
        ("[http]\nlisten = \n", "not valid TOML"),
        ("[wizard]\n", "unknown section(s) wizard"),
        ("[storage]\novercommit_percent = 'lots'\n", "overcommit_percent"),
        ("[hosts]\nmaintenance_policy = 'pray'\n", "maintenance_policy"),
        ("[appliance]\nvirt_type = 'xen'\n", "virt_type"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "virtstick.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.load(path)


def test_policies_and_virtualization_are_read_into_their_enums(tmp_path: Path) -> None:
    path = tmp_path / "virtstick.toml"
    path.write_text("[hosts]\nmaintenance_policy = 'migrate'\n[appliance]\nvirt_type = 'kvm'\n")
    loaded = config.load(path)
    assert loaded.hosts.maintenance_policy is MaintenancePolicy.MIGRATE
    assert loaded.appliance.virt_type is config.VirtType.KVM


def test_missing_file_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="firstboot"):
        config.load(tmp_path / "nothing.toml")
