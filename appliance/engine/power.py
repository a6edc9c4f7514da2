"""Power management of hosts: switch on, switch off, fence (cut the power, confirmed).

A host's ``power_management`` names its agent: ``lab`` (a lab host: its namespaces are
started or killed), ``ipmi:ADDRESS:USER`` (``ipmitool``, password in the environment
variable IPMI_PASSWORD of the engine) or ``wol:MAC`` (Wake-on-LAN: can switch a host on, not
off or fence it). Only the lab agent is exercised by the tests here; the others drive real
hardware and were not tried on any.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Protocol

from appliance.engine.enums import HostKind
from appliance.engine.model import Host
from appliance.errors import HostAgentError, InvalidInput, NotSupported
from appliance.vdsm.labhost import Lab


class PowerAgent(Protocol):
    def soft_fence(self, host: Host) -> bool:
        """Restart the host's management daemons without touching its VMs; whether that
        was possible (oVirt's SSH soft fencing)."""

    def power_on(self, host: Host) -> None: ...
    def power_off(self, host: Host) -> None: ...
    def fence(self, host: Host) -> None:
        """Return only when the host is certainly off: its VMs may then run elsewhere."""


class LabPower:
    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def soft_fence(self, host: Host) -> bool:
        info = self.lab.find(host.name)
        return info is not None and self.lab.restart_daemons(info)

    def power_on(self, host: Host) -> None:
        self.lab.start(host.name)

    def power_off(self, host: Host) -> None:
        info = self.lab.find(host.name)
        if info is not None:
            self.lab.stop(info)

    def fence(self, host: Host) -> None:
        info = self.lab.find(host.name)
        if info is not None:
            self.lab.stop(info, kill=True)


class IpmiPower:
    def __init__(self, address: str, user: str) -> None:
        self.address = address
        self.user = user

    def soft_fence(self, host: Host) -> bool:
        return False

    def power_on(self, host: Host) -> None:
        self._ipmitool("on")

    def power_off(self, host: Host) -> None:
        self._ipmitool("soft")

    def fence(self, host: Host) -> None:
        self._ipmitool("off")
        if "off" not in self._ipmitool("status"):
            raise HostAgentError(f"IPMI at {self.address} does not confirm that host "
                                 f"{host.name} is off")

    def _ipmitool(self, verb: str) -> str:
        result = subprocess.run(
            ["ipmitool", "-I", "lanplus", "-H", self.address, "-U", self.user, "-E",
             "chassis", "power", verb], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise HostAgentError(f"ipmitool {verb} at {self.address}: {result.stderr.strip()}")
        return result.stdout.lower()


class WakeOnLan:
    def __init__(self, mac: str) -> None:
        self.mac = mac

    def soft_fence(self, host: Host) -> bool:
        return False

    def power_on(self, host: Host) -> None:
        payload = bytes.fromhex("ff" * 6 + self.mac.replace(":", "").replace("-", "") * 16)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.sendto(payload, ("255.255.255.255", 9))

    def power_off(self, host: Host) -> None:
        raise NotSupported(f"Wake-on-LAN cannot switch host {host.name} off.")

    def fence(self, host: Host) -> None:
        raise NotSupported(f"Wake-on-LAN cannot fence host {host.name}.")


def agent_for(host: Host, lab: Lab) -> PowerAgent | None:
    """The host's power agent, None when it has none (it can be neither fenced nor woken)."""
    kind, _, rest = host.power_management.partition(":")
    if kind == "lab" and host.kind is HostKind.LAB:
        return LabPower(lab)
    if kind == "ipmi":
        address, _, user = rest.partition(":")
        return IpmiPower(address, user or "admin")
    if kind == "wol":
        return WakeOnLan(rest)
    return None


def power_management(kind: str, *, address: str = "", username: str = "") -> str:
    """A host's ``power_management`` from oVirt's fields (``ipmilan`` or ``wol``, with the
    agent's address and user); empty ``kind``: none."""
    if not kind:
        return ""
    if kind in ("ipmilan", "ipmi"):
        return f"ipmi:{address}:{username or 'admin'}"
    if kind == "wol":
        return f"wol:{address}"
    raise InvalidInput(f"Power management type '{kind}' is not supported; use ipmilan or wol.")
