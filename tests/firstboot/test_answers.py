"""Validation of the answers: every bad input gives an error at its field, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.security.passwords import verify_password
from firstboot.answers import (
    Facts,
    InvalidAnswers,
    NetworkMode,
    parse_admin,
    parse_answers,
    parse_network,
    parse_storage,
)
from firstboot.storage_sizing import Backing, budget_for

GOOD: dict[str, Any] = {
    "network": {"interface": "eth0", "mode": "static", "address": "192.0.2.10/24",
                "gateway": "192.0.2.1", "dns": ["192.0.2.53"], "hostname": "lab1.example"},
    "storage": {"backing": "zram", "size_mib": 4096},
    "admin": {"password": "Tr0ub4dor&3x"},
    "timezone": "Europe/Paris",
}


def test_good_answers_parse(facts: Facts) -> None:
    answers = parse_answers(GOOD, facts)
    assert answers.network.mode is NetworkMode.STATIC
    assert str(answers.network.address) == "192.0.2.10/24"
    assert str(answers.network.gateway) == "192.0.2.1"
    assert answers.storage.backing is Backing.ZRAM and answers.storage.size_mib == 4096
    assert verify_password("Tr0ub4dor&3x", answers.admin.password_hash)
    assert answers.timezone == "Europe/Paris"


@pytest.mark.parametrize(("network", "key", "words"), [
    ({"address": "192.0.2.300/24"}, "network.address", "not an IPv4 address"),
    ({"address": "192.0.2.10/33"}, "network.address", "prefix /33"),
    ({"address": "192.0.2.10/4"}, "network.address", "prefix /4"),
    ({"address": "192.0.2.10"}, "network.address", "prefix length"),
    ({"address": "192.0.2.0/24"}, "network.address", "network's own"),
    ({"gateway": "198.51.100.1"}, "network.gateway", "outside the subnet 192.0.2.0/24"),
    ({"gateway": "192.0.2.10"}, "network.gateway", "own address"),
    ({"gateway": "gw"}, "network.gateway", "not an IPv4 address"),
    ({"hostname": "bad_name"}, "network.hostname", "not a valid host name"),
    ({"hostname": "-lab"}, "network.hostname", "not a valid host name"),
    ({"hostname": "a" * 64}, "network.hostname", "not a valid host name"),
    ({"interface": "wlan9"}, "network.interface", "no interface named 'wlan9'"),
    ({"mode": "bootp"}, "network.mode", "not one of"),
    ({"dns": ["1.1.1.1", "dns.example"]}, "network.dns", "'dns.example'"),
    ({"colour": "blue"}, "network.colour", "unknown key"),
])
def test_bad_network_is_reported_at_its_field(
        facts: Facts, network: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        parse_network({**GOOD["network"], **network}, facts)
    errors = caught.value.by_key()
    assert list(errors) == [key]
    assert words in errors[key]


def test_dhcp_rejects_static_fields_and_defaults_interface(facts: Facts) -> None:
    answers = parse_network({"mode": "dhcp"}, facts)
    assert answers.interface == "eth0" and answers.address is None
    with pytest.raises(InvalidAnswers) as caught:
        parse_network({"mode": "dhcp", "address": "192.0.2.10/24"}, facts)
    assert "network.address" in caught.value.by_key()


def test_ram_size_above_safe_is_refused_and_proposal_leaves_room(facts: Facts) -> None:
    budget = budget_for(Backing.TMPFS, ram_mib=facts.ram_mib)
    assert budget.proposed_mib <= budget.max_mib < facts.ram_mib - 1024
    assert parse_storage({"backing": "tmpfs"}, facts).size_mib == budget.proposed_mib
    with pytest.raises(InvalidAnswers) as caught:
        parse_storage({"backing": "tmpfs", "size_mib": budget.max_mib + 1}, facts)
    assert "above the safe maximum" in caught.value.by_key()["storage.size_mib"]
    zram = budget_for(Backing.ZRAM, ram_mib=facts.ram_mib)
    assert zram.max_mib > budget.max_mib  # compression: more room for thin disks
    assert "VMs keep" in zram.tradeoff(zram.proposed_mib)


def test_disk_needs_device_and_confirmation(facts: Facts) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        parse_storage({"backing": "disk", "device": "/dev/sdb"}, facts)
    assert list(caught.value.by_key()) == ["storage.confirm_wipe"]
    with pytest.raises(InvalidAnswers) as caught:
        parse_storage({"backing": "disk", "device": "/dev/sda", "confirm_wipe": True}, facts)
    assert "not a disk offered" in caught.value.by_key()["storage.device"]
    chosen = parse_storage({"backing": "disk", "device": "/dev/sdb", "confirm_wipe": True}, facts)
    assert chosen.device == "/dev/sdb"


@pytest.mark.parametrize(("raw", "key", "words"), [
    ({"password": "short1A!"}, "admin.password", "too short"),
    ({"password": "passwordpassword1"[:12]}, "admin.password", "common word"),
    ({"password": "abcdefghijkl"}, "admin.password", "mix at least three"),
    ({"password": "aaaaaaaaaaaaaaaaaaaa"}, "admin.password", "too repetitive"),
    ({"password": "Tr0ub4dor&3x", "password_confirm": "Tr0ub4dor&3y"}, "admin.password_confirm",
     "does not match"),
    ({"password_hash": "md5$abc"}, "admin.password_hash", "not a hash"),
    ({}, "admin.password", "required"),
])
def test_weak_or_unconfirmed_passwords(facts: Facts, raw: dict[str, Any], key: str,
                                       words: str) -> None:
    with pytest.raises(InvalidAnswers) as caught:
        parse_admin(raw, facts)
    assert words in caught.value.by_key()[key]


def test_all_errors_at_once_with_unknown_sections(facts: Facts) -> None:
    raw = {**GOOD, "timezone": "Mars/Olympus", "extra": {}, "storage": {"backing": "nfs"}}
    with pytest.raises(InvalidAnswers) as caught:
        parse_answers(raw, facts, source="seed (test)")
    assert set(caught.value.by_key()) == {"extra", "timezone", "storage.backing"}
    assert str(caught.value).startswith("seed (test): ")
