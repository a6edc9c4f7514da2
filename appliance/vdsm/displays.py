"""A running VM's displays on this host: which it gets at its start (VNC, SPICE or both,
SPICE only where this host's QEMU has it), where each listens, and their passwords, one per
display."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import libvirt
from defusedxml import ElementTree as SafeET

from appliance.errors import HostAgentError, NotFound
from appliance.vdsm import domxml
from appliance.vdsm.display_passwords import OneTimeDisplayPasswords

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GraphicsInfo:
    """Where one of a running VM's displays listens (on the host; the console proxy
    reaches it)."""

    type: str  # vnc or spice
    address: str
    port: int
    tls_port: int | None = None  # SPICE over TLS; VirtStick's listen on the host only


class Displays:
    def __init__(self, host_id: str, *, conn: Callable[[], libvirt.virConnect],
                 domain: Callable[[str], libvirt.virDomain], domain_prefix: str) -> None:
        self._host_id = host_id
        self._conn = conn
        self._domain = domain  # a running VM's domain by its id
        self._spice: bool | None = None  # whether this host's QEMU has SPICE, once known
        self.passwords = OneTimeDisplayPasswords(
            lambda vm_id, **password: self.set_password(self._domain(vm_id), **password),
            lambda vm_id: [(g.type, g.port) for g in self.listening(self._domain(vm_id))],
            domain_prefix=domain_prefix)

    def devices(self, wanted: tuple[str, ...], *, vm: str,
                password: str = "") -> tuple[domxml.GraphicsDevice, ...]:
        """Never an open display: each has a password of its own, a random one nobody knows
        until a console ticket sets one (QEMU cannot add a password later). SPICE is left
        out where QEMU lacks it, as long as the VM keeps a display."""
        kinds = list(dict.fromkeys(wanted))
        if "spice" in kinds and len(kinds) > 1 and not self._has_spice():
            log.info("VM %s starts without its SPICE display: QEMU on host %s has no SPICE",
                     vm, self._host_id)
            kinds.remove("spice")
        return tuple(domxml.GraphicsDevice(type=kind, password=password
                                           or secrets.token_hex(4)) for kind in kinds)

    def listening(self, dom: libvirt.virDomain) -> tuple[GraphicsInfo, ...]:
        """The running VM's displays that listen (a port given), in the domain's order."""
        found = []
        for graphics in _elements(dom):
            port = int(graphics.get("port", "-1"))
            if port > 0:
                tls = int(graphics.get("tlsPort", "-1"))
                found.append(GraphicsInfo(type=graphics.get("type", "vnc"),
                                          address=graphics.get("listen", "127.0.0.1"),
                                          port=port, tls_port=tls if tls > 0 else None))
        return tuple(found)

    def set_password(self, dom: libvirt.virDomain, *, protocol: str, password: str,
                     valid_until: float) -> None:
        """A new password for the running VM's ``protocol`` display, refused by QEMU after
        ``valid_until`` (connections made before then stay open) and after its first
        successful login (see display_passwords); the VM's other display keeps its own."""
        self.passwords.changed(dom.UUIDString(), protocol)
        graphics = next((g for g in _elements(dom) if g.get("type") == protocol), None)
        if graphics is None:
            raise NotFound(f"the VM has no {protocol.upper()} display")
        graphics.set("passwd", password)
        graphics.set("passwdValidTo",
                     time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(valid_until)))
        try:
            dom.updateDeviceFlags(ET.tostring(graphics, encoding="unicode"),
                                  libvirt.VIR_DOMAIN_AFFECT_LIVE)
        except libvirt.libvirtError as exc:
            raise HostAgentError("could not set the console password: "
                                 f"{exc.get_error_message()}") from None

    def _has_spice(self) -> bool:
        """Read once from libvirt's domain capabilities. Unknown (libvirt unreachable)
        counts as yes, so libvirt itself names the problem at the start."""
        if self._spice is None:
            try:
                caps = self._conn().getDomainCapabilities(None, "x86_64", None, None)
            except (libvirt.libvirtError, HostAgentError):
                return True
            types = SafeET.fromstring(caps).findall(
                "./devices/graphics/enum[@name='type']/value")
            self._spice = any(t.text == "spice" for t in types)
        return self._spice


def _elements(dom: libvirt.virDomain) -> list[ET.Element]:
    try:
        xml = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE)
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"could not read the VM: {exc.get_error_message()}") from None
    return list(SafeET.fromstring(xml).findall("./devices/graphics"))
