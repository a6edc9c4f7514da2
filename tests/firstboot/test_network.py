"""The network step against real NetworkManager in a namespace (nmlab.py), checked with ip."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from ipaddress import IPv4Address, IPv4Interface

import pytest
from dbus_next.signature import Variant

from firstboot.answers import NetworkAnswers, NetworkMode
from firstboot.network.bus import NetworkManagerClient
from firstboot.network.step import NetworkResult, NetworkRolledBack, apply_network, begin
from tests.firstboot.nmlab import Lab


def _apply(lab: Lab, answers: NetworkAnswers, *, timeout: float = 5) -> NetworkResult:
    return asyncio.run(apply_network(answers, bridge="ovirtmgmt", rollback_timeout_s=30,
                                     probe_netns=lab.host_ns, connectivity_timeout_s=timeout,
                                     bus_address=lab.bus_address))


def _addresses(lab: Lab, device: str) -> list[str]:
    data = json.loads(lab.ip("-j", "-4", "addr", "show", "dev", device) or "[]")
    return [f"{a['local']}/{a['prefixlen']}" for d in data for a in d["addr_info"]]


def _master(lab: Lab, device: str) -> str:
    (data,) = json.loads(lab.ip("-j", "link", "show", "dev", device))
    return str(data.get("master", ""))


def _mac(lab: Lab, device: str) -> str:
    (data,) = json.loads(lab.ip("-j", "link", "show", "dev", device))
    return str(data["address"])


def _saved_bridge_mac(lab: Lab) -> str:
    async def read() -> bytes:
        client = await NetworkManagerClient.connect(lab.bus_address)
        for settings in (await client.connections()).values():
            if settings["connection"]["id"].value == "ovirtmgmt":
                return bytes(settings["bridge"]["mac-address"].value)
        raise AssertionError("no ovirtmgmt profile")

    return ":".join(f"{b:02x}" for b in asyncio.run(read()))


def _static(lab: Lab, gateway: str) -> NetworkAnswers:
    return NetworkAnswers(interface=lab.nic, mode=NetworkMode.STATIC, hostname="lab",
                          address=IPv4Interface(f"{lab.subnet}.20/24"),
                          gateway=IPv4Address(gateway), dns=(IPv4Address(lab.gateway),))


def test_dhcp_on_the_bridge_with_the_nic_as_port(lab: Lab) -> None:
    result = _apply(lab, NetworkAnswers(interface=lab.nic, mode=NetworkMode.DHCP,
                                        hostname="lab"))
    (address,) = _addresses(lab, "ovirtmgmt")
    assert address.startswith(f"{lab.subnet}.1") and address.endswith("/24")  # .100-.150
    assert _master(lab, lab.nic) == "ovirtmgmt"
    assert _addresses(lab, lab.nic) == []
    assert f"default via {lab.gateway} dev ovirtmgmt" in lab.ip("-4", "route")
    assert result.gateway_answered is True
    leases = (lab.workdir / "leases").read_text()
    assert f" {address.split('/')[0]} lab " in leases  # the host name went out with DHCP
    # The bridge asks with the NIC's own MAC: the lease (and any reservation) stays the NIC's.
    # The profile pins it (NetworkManager may otherwise give a bridge a MAC of its own).
    assert _saved_bridge_mac(lab) == _mac(lab, lab.nic)
    assert _mac(lab, "ovirtmgmt") == _mac(lab, lab.nic)
    assert f" {_mac(lab, lab.nic)} {address.split('/')[0]} " in leases


def test_static_applied_and_rerun_changes_it(lab: Lab) -> None:
    _apply(lab, _static(lab, lab.gateway))
    assert _addresses(lab, "ovirtmgmt") == [f"{lab.subnet}.20/24"]
    assert _master(lab, lab.nic) == "ovirtmgmt"
    keyfile = (lab.workdir / "connections/ovirtmgmt.nmconnection").read_text()
    assert f"dns={lab.gateway};" in keyfile and "stp=false" in keyfile
    moved = NetworkAnswers(interface=lab.nic, mode=NetworkMode.STATIC, hostname="lab",
                           address=IPv4Interface(f"{lab.subnet}.21/24"),
                           gateway=IPv4Address(lab.gateway))
    _apply(lab, moved)  # the re-run: same profiles updated, not duplicated
    assert _addresses(lab, "ovirtmgmt") == [f"{lab.subnet}.21/24"]
    profiles = sorted(p.name for p in (lab.workdir / "connections").iterdir())
    assert profiles == ["ovirtmgmt-port-" + lab.nic + ".nmconnection", "ovirtmgmt.nmconnection"]


def test_unanswered_gateway_rolls_back_to_previous(lab: Lab) -> None:
    _apply(lab, _static(lab, lab.gateway))
    started = time.monotonic()
    with pytest.raises(NetworkRolledBack, match=rf"{lab.subnet}\.254 did not answer"):
        _apply(lab, NetworkAnswers(
            interface=lab.nic, mode=NetworkMode.STATIC, hostname="lab",
            address=IPv4Interface(f"{lab.subnet}.30/24"),
            gateway=IPv4Address(f"{lab.subnet}.254")), timeout=2)
    assert time.monotonic() - started < 15
    assert _addresses(lab, "ovirtmgmt") == [f"{lab.subnet}.20/24"]


def test_first_apply_rolled_back_leaves_no_bridge(lab: Lab) -> None:
    with pytest.raises(NetworkRolledBack):
        _apply(lab, _static(lab, f"{lab.subnet}.254"), timeout=2)
    assert "ovirtmgmt" not in lab.ip("-br", "link")
    assert not list((lab.workdir / "connections").iterdir())


def test_networkmanager_rolls_back_by_itself_without_confirmation(lab: Lab) -> None:
    """The wizard died after applying: the checkpoint's timeout restores the old state."""
    async def apply_and_vanish() -> None:
        client = await NetworkManagerClient.connect(lab.bus_address)
        try:
            await begin(client, _static(lab, lab.gateway), bridge="ovirtmgmt",
                        rollback_timeout_s=8)
        finally:
            client.close()

    asyncio.run(apply_and_vanish())
    assert _addresses(lab, "ovirtmgmt") == [f"{lab.subnet}.20/24"]
    deadline = time.monotonic() + 40
    while "ovirtmgmt" in lab.ip("-br", "link") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "ovirtmgmt" not in lab.ip("-br", "link")
    assert _master(lab, lab.nic) == ""


def test_nic_taken_over_from_a_plain_profile_and_given_back_on_rollback(lab: Lab) -> None:
    """As on a laptop where NetworkManager already brought the NIC up with DHCP."""
    async def plain_dhcp() -> None:
        client = await NetworkManagerClient.connect(lab.bus_address)
        try:
            path = await client.add_or_update({
                "connection": {"id": Variant("s", "Wired connection 1"),
                               "uuid": Variant("s", str(uuid.uuid4())),
                               "type": Variant("s", "802-3-ethernet"),
                               "interface-name": Variant("s", lab.nic)},
                "ipv4": {"method": Variant("s", "auto"), "may-fail": Variant("b", False)},
                "ipv6": {"method": Variant("s", "ignore")}})
            nic = await client.device_by_interface(lab.nic)
            assert nic is not None
            await client.wait_activated(await client.activate(path, nic.path), 30)
        finally:
            client.close()

    asyncio.run(plain_dhcp())
    (before,) = _addresses(lab, lab.nic)
    with pytest.raises(NetworkRolledBack):
        _apply(lab, _static(lab, f"{lab.subnet}.254"), timeout=2)
    deadline = time.monotonic() + 20
    while _addresses(lab, lab.nic) != [before] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _addresses(lab, lab.nic) == [before]  # the laptop's own configuration is back
    _apply(lab, _static(lab, lab.gateway))
    assert _addresses(lab, lab.nic) == [] and _master(lab, lab.nic) == "ovirtmgmt"
    assert _addresses(lab, "ovirtmgmt") == [f"{lab.subnet}.20/24"]
