"""How a host gives VMs' NICs the logical networks the engine defines.

The networks the configuration names (ovirtmgmt) are mapped as it says: ``bridge:NAME`` (a
host bridge) or ``user`` (QEMU's user networking). Every other network without a VLAN is,
as ``[network] others`` says:

- ``isolated``: one libvirt network per logical network on each host, made when a VM needs
  it (a start, or a migration arriving): a bridge of libvirt's own with no uplink, no
  address and no DHCP, so the VMs of that network on the host reach each other and nothing
  else. Nothing of the machine's own network changes but that bridge, which the appliance
  owns and libvirt removes with it.
- ``user``: QEMU user networking for each NIC (development machines, tests).
- ``none``: not carried; the scheduler refuses such VMs, naming the network.

A network with a VLAN would need a tagged host NIC: libvirt cannot tag a Linux bridge's port
before version 11, so no host here carries one (the scheduler says so at a VM's start).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from xml.etree import ElementTree as ET

import libvirt

from appliance.errors import HostAgentError


class OtherNetworks(StrEnum):
    ISOLATED = "isolated"
    USER = "user"
    NONE = "none"


@dataclass(frozen=True)
class NetworkNeed:
    """What a NIC's network asks of a host."""

    name: str
    vlan: int = 0  # 0: untagged
    mtu: int = 0  # 0: libvirt's default (1500)


def libvirt_name(prefix: str, network: str) -> str:
    return f"{prefix}net-{network}"


def bridge_name(prefix: str, network: str) -> str:
    """Linux allows 15 characters: a digest keeps two appliances' bridges apart."""
    digest = hashlib.sha256(libvirt_name(prefix, network).encode()).hexdigest()
    return f"vsn{digest[:10]}"


def isolated_xml(prefix: str, need: NetworkNeed) -> str:
    root = ET.Element("network")
    ET.SubElement(root, "name").text = libvirt_name(prefix, need.name)
    ET.SubElement(root, "bridge", name=bridge_name(prefix, need.name), stp="off", delay="0")
    if need.mtu:
        ET.SubElement(root, "mtu", size=str(need.mtu))
    # no <forward> and no <ip>: an isolated segment without addresses or DHCP
    return ET.tostring(root, encoding="unicode")


def ensure_isolated(conn: libvirt.virConnect, prefix: str, need: NetworkNeed) -> str:
    """The libvirt network carrying ``need`` on this host, made (transient) if missing."""
    name = libvirt_name(prefix, need.name)
    try:
        found = conn.networkLookupByName(name)
        if not found.isActive():
            found.create()
        return name
    except libvirt.libvirtError:
        pass
    try:
        conn.networkCreateXML(isolated_xml(prefix, need))
    except libvirt.libvirtError as exc:
        if conn.listNetworks().count(name) == 0:  # not a race with another start
            raise HostAgentError(f"could not make network {need.name} on the host: "
                                 f"{exc.get_error_message()}") from None
    return name


def forget(conn: libvirt.virConnect, prefix: str, network: str) -> None:
    """The host's libvirt network of a logical network that is gone (none if never made)."""
    with contextlib.suppress(libvirt.libvirtError):
        conn.networkLookupByName(libvirt_name(prefix, network)).destroy()
