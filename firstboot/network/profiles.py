"""The connection profiles of the management network: the ``ovirtmgmt`` bridge carrying the
address (DHCP or static), and the chosen NIC as its port. VMs attach to the bridge."""

from __future__ import annotations

import uuid

from dbus_next.signature import Variant

from firstboot.answers import NetworkAnswers, NetworkMode
from firstboot.network.bus import ConnectionSettings


def port_id(interface: str) -> str:
    return f"ovirtmgmt-port-{interface}"


def bridge_profile(answers: NetworkAnswers, *, bridge: str, mac: str) -> ConnectionSettings:
    """The bridge carries its port's MAC address, so the machine keeps its DHCP lease (and
    any reservation made for that NIC) when the wizard moves the address to the bridge."""
    ipv4: dict[str, Variant] = {
        # The activation counts only once IPv4 is up, so a DHCP failure is a failure.
        "may-fail": Variant("b", False),
        "dhcp-hostname": Variant("s", answers.hostname),
    }
    if answers.mode is NetworkMode.STATIC:
        assert answers.address is not None
        ipv4["method"] = Variant("s", "manual")
        ipv4["address-data"] = Variant("aa{sv}", [{
            "address": Variant("s", str(answers.address.ip)),
            "prefix": Variant("u", answers.address.network.prefixlen),
        }])
        if answers.gateway is not None:
            ipv4["gateway"] = Variant("s", str(answers.gateway))
    else:
        ipv4["method"] = Variant("s", "auto")
    if answers.dns:
        # NM's "dns" is a list of IPv4 addresses as uint32 in network byte order.
        ipv4["dns"] = Variant("au", [int.from_bytes(a.packed, "little") for a in answers.dns])
        ipv4["ignore-auto-dns"] = Variant("b", True)
    return {
        "connection": {
            "id": Variant("s", bridge),
            "uuid": Variant("s", str(uuid.uuid4())),
            "type": Variant("s", "bridge"),
            "interface-name": Variant("s", bridge),
            "autoconnect": Variant("b", True),
            "autoconnect-slaves": Variant("i", 1),
        },
        # No STP: one NIC, and STP's 30 s of listening would stall DHCP and the wizard.
        "bridge": {"stp": Variant("b", False),
                   "mac-address": Variant("ay", bytes.fromhex(mac.replace(":", "")))},
        "ipv4": ipv4,
        "ipv6": {"method": Variant("s", "link-local")},
    }


def port_profile(interface: str, *, bridge: str) -> ConnectionSettings:
    return {
        "connection": {
            "id": Variant("s", port_id(interface)),
            "uuid": Variant("s", str(uuid.uuid4())),
            "type": Variant("s", "802-3-ethernet"),
            "interface-name": Variant("s", interface),
            "master": Variant("s", bridge),
            "slave-type": Variant("s", "bridge"),
            "autoconnect": Variant("b", True),
            # Above NetworkManager's default "Wired connection" profiles for the same NIC.
            "autoconnect-priority": Variant("i", 10),
        },
        "802-3-ethernet": {},
    }
