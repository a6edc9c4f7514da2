"""The whole flow: seed answers applied on the network lab, storage mounted, configuration
written in the appliance's format, the service command run."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from appliance import config as appliance_config
from appliance.security.passwords import verify_password
from firstboot.answers import Facts, InvalidAnswers, parse_answers
from firstboot.apply import ServiceStartFailed, Step, StepState, apply_all
from firstboot.settings import WizardSettings
from firstboot.storage import release
from tests.firstboot.nmlab import Lab


def _answers(lab: Lab, **storage: object) -> dict[str, object]:
    return {
        "network": {"interface": lab.nic, "mode": "dhcp", "hostname": "lab7"},
        "storage": {"backing": "tmpfs", "size_mib": 256, **storage},
        "admin": {"password": "Apply-Test-99"},
        "timezone": "Asia/Tokyo",
    }


def test_apply_all_writes_config_and_starts_service(lab: Lab, lab_settings: WizardSettings) -> None:
    facts = Facts(ram_mib=8192, interfaces=frozenset({lab.nic}))
    answers = parse_answers(_answers(lab), facts)
    seen: list[tuple[Step, StepState]] = []
    outcome = apply_all(answers, lab_settings, on_step=lambda s, st, _d: seen.append((s, st)))
    try:
        config = appliance_config.load(lab_settings.config_path)
        assert config.storage.path == lab_settings.storage_path
        assert config.storage.backing.value == "tmpfs"
        assert config.network.ovirtmgmt == "bridge:ovirtmgmt"
        assert (config.http.listen, config.http.https_listen) == ("0.0.0.0:80", "0.0.0.0:443")
        assert verify_password("Apply-Test-99", config.auth.admin_password_hash)
        assert oct(lab_settings.config_path.stat().st_mode & 0o777) == "0o600"
        assert os.path.ismount(lab_settings.storage_path)
        assert (lab_settings.etc_dir / "hostname").read_text() == "lab7\n"
        assert os.readlink(lab_settings.etc_dir / "localtime").endswith("Asia/Tokyo")
        assert (lab_settings.config_path.parent.parent.parent / "service-started").exists()
        assert outcome.url.startswith(f"https://{lab.subnet}.1")
        assert [s for s, st in seen if st is StepState.DONE] == list(Step)
    finally:
        release(outcome.storage, zram_control=lab_settings.zram_control,
                sys_block=lab_settings.sys_block)


def test_service_failure_is_reported(lab: Lab, lab_settings: WizardSettings,
                                     tmp_path: Path) -> None:
    failing = dataclasses.replace(lab_settings, start_command=("sh", "-c", "echo no >&2; exit 3"))
    answers = parse_answers(_answers(lab), Facts(ram_mib=8192))
    with pytest.raises(ServiceStartFailed, match="exited with 3: no"):
        apply_all(answers, failing)
    # Ready for a retry: domain released, no configuration to stop the wizard next time.
    assert not os.path.ismount(failing.storage_path)
    assert not failing.config_path.exists()
    outcome = apply_all(answers, lab_settings)  # the retry, with a service that starts
    release(outcome.storage, zram_control=lab_settings.zram_control,
            sys_block=lab_settings.sys_block)


def test_bad_answers_apply_nothing(settings: WizardSettings) -> None:
    with pytest.raises(InvalidAnswers):
        parse_answers({"network": {"interface": "x", "mode": "static",
                                   "address": "10.0.0.5/24", "gateway": "10.0.1.1"},
                       "admin": {"password": "Apply-Test-99"}}, Facts(ram_mib=8192))
    assert not settings.config_path.exists() and not settings.storage_path.exists()
