"""What the management network is now, as the faces' raw values: the network step re-run
starts from the saved ``ovirtmgmt`` profiles instead of the defaults."""

from __future__ import annotations

from ipaddress import IPv4Address

from firstboot.network.bus import ConnectionSettings, NetworkManagerClient


async def current_network(client: NetworkManagerClient, *, bridge: str) -> dict[str, str]:
    """Empty when the wizard has not configured the network yet."""
    profiles = list((await client.connections()).values())
    bridge_profile = next((p for p in profiles if _get(p, "connection", "id") == bridge), None)
    if bridge_profile is None:
        return {}
    ipv4 = bridge_profile.get("ipv4", {})
    values = {"mode": "static" if _get(bridge_profile, "ipv4", "method") == "manual" else "dhcp",
              "hostname": str(_get(bridge_profile, "ipv4", "dhcp-hostname") or "")}
    port = next((p for p in profiles if _get(p, "connection", "master") == bridge), None)
    if port is not None:
        values["interface"] = str(_get(port, "connection", "interface-name") or "")
    addresses = ipv4["address-data"].value if "address-data" in ipv4 else []
    if values["mode"] == "static" and addresses:
        values["address"] = f"{addresses[0]['address'].value}/{addresses[0]['prefix'].value}"
        values["gateway"] = str(_get(bridge_profile, "ipv4", "gateway") or "")
    if "dns" in ipv4:
        values["dns"] = " ".join(str(IPv4Address(n.to_bytes(4, "little")))
                                 for n in ipv4["dns"].value)
    return {k: v for k, v in values.items() if v}


def _get(profile: ConnectionSettings, section: str, key: str) -> object:
    value = profile.get(section, {}).get(key)
    return None if value is None else value.value
