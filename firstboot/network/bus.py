"""A small typed client for NetworkManager's D-Bus API (dbus-next's low-level messages).

Plain method calls and property reads, no introspection round trips; the values stay the
D-Bus ones (``Variant``-wrapped settings) and the callers convert.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, cast

from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import BusType, MessageType
from dbus_next.errors import DBusError
from dbus_next.message import Message
from dbus_next.signature import Variant

from appliance.errors import HostAgentError

NM = "org.freedesktop.NetworkManager"
NM_PATH = "/org/freedesktop/NetworkManager"
SETTINGS_PATH = "/org/freedesktop/NetworkManager/Settings"
SETTINGS = "org.freedesktop.NetworkManager.Settings"
CONNECTION = "org.freedesktop.NetworkManager.Settings.Connection"
DEVICE = "org.freedesktop.NetworkManager.Device"
ACTIVE = "org.freedesktop.NetworkManager.Connection.Active"
IP4CONFIG = "org.freedesktop.NetworkManager.IP4Config"
PROPERTIES = "org.freedesktop.DBus.Properties"
NM_START_TIMEOUT_S = 120.0  # NetworkManager's own start under emulation, on a loaded machine

ConnectionSettings = dict[str, dict[str, Variant]]


class NetworkManagerError(HostAgentError):
    code = "network-manager"
    reason = "NetworkManager refused"


class ActiveState(IntEnum):
    UNKNOWN = 0
    ACTIVATING = 1
    ACTIVATED = 2
    DEACTIVATING = 3
    DEACTIVATED = 4


class CheckpointFlag(IntEnum):
    DESTROY_ALL = 0x1
    DELETE_NEW_CONNECTIONS = 0x2
    DISCONNECT_NEW_DEVICES = 0x4


@dataclass(frozen=True)
class NmDevice:
    path: str
    interface: str
    device_type: int  # NM_DEVICE_TYPE_*: 1 ethernet, 2 wifi, 13 bridge, 14 generic/lo...
    state: int
    hw_address: str


class NetworkManagerClient:
    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    @classmethod
    async def connect(cls, address: str = "", *,
                      start_timeout_s: float = NM_START_TIMEOUT_S) -> NetworkManagerClient:
        """The system bus, or the bus at ``address`` (tests run a private one), once
        NetworkManager is on it: the wizard starts beside NetworkManager, not after it, so
        that its own start-up overlaps NetworkManager's (seconds each under emulation)."""
        try:
            bus = await (MessageBus(bus_address=address) if address
                         else MessageBus(bus_type=BusType.SYSTEM)).connect()
        except (OSError, DBusError) as exc:
            raise NetworkManagerError(f"cannot reach the system D-Bus: {exc}") from None
        client = cls(bus)
        try:
            await client._wait_for_service(start_timeout_s)
        except NetworkManagerError:
            client.close()
            raise
        return client

    async def _wait_for_service(self, timeout_s: float) -> None:
        """Until NetworkManager answers on its object: it takes its bus name before it has
        exported its objects, so owning the name is not enough."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            try:
                await self.prop(NM_PATH, NM, "Version")
                return
            except NetworkManagerError as exc:
                if loop.time() > deadline:
                    raise NetworkManagerError(f"NetworkManager does not answer on the system "
                                              f"D-Bus within {timeout_s:.0f} s ({exc.detail})"
                                              ) from None
            await asyncio.sleep(0.2)

    async def wait_for_device(self, interface: str, timeout_s: float) -> NmDevice | None:
        """The device of ``interface`` once NetworkManager has it (it adds the devices udev
        named after it started), or None after ``timeout_s``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while (device := await self.device_by_interface(interface)) is None:
            if loop.time() > deadline:
                return None
            await asyncio.sleep(0.2)
        return device

    def close(self) -> None:
        self._bus.disconnect()  # type: ignore[no-untyped-call]

    async def call(self, path: str, interface: str, member: str, signature: str = "",
                   body: list[Any] | None = None) -> list[Any]:
        reply = await self._bus.call(Message(destination=NM, path=path, interface=interface,
                                             member=member, signature=signature,
                                             body=body or []))
        if reply is None:
            return []
        if reply.message_type is MessageType.ERROR:
            detail = reply.body[0] if reply.body else ""
            raise NetworkManagerError(f"{member}: {reply.error_name}: {detail}")
        result: list[Any] = reply.body
        return result

    async def prop(self, path: str, interface: str, name: str) -> Any:
        (value,) = await self.call(path, PROPERTIES, "Get", "ss", [interface, name])
        return cast(Variant, value).value

    async def devices(self) -> list[NmDevice]:
        (paths,) = await self.call(NM_PATH, NM, "GetAllDevices")
        found = []
        for path in paths:
            try:
                found.append(await self.device(path))
            except NetworkManagerError:
                continue  # removed since the list was made (a bridge being rolled back)
        return found

    async def device(self, path: str) -> NmDevice:
        (props,) = await self.call(path, PROPERTIES, "GetAll", "s", [DEVICE])
        return NmDevice(path=path, interface=props["Interface"].value,
                        device_type=props["DeviceType"].value, state=props["State"].value,
                        hw_address=props.get("HwAddress", Variant("s", "")).value)

    async def device_by_interface(self, interface: str) -> NmDevice | None:
        for device in await self.devices():
            if device.interface == interface:
                return device
        return None

    async def connections(self) -> dict[str, ConnectionSettings]:
        """Every saved connection profile: D-Bus path -> settings."""
        (paths,) = await self.call(SETTINGS_PATH, SETTINGS, "ListConnections")
        result: dict[str, ConnectionSettings] = {}
        for path in paths:
            (settings,) = await self.call(path, CONNECTION, "GetSettings")
            result[path] = settings
        return result

    async def connection_by_id(self, conn_id: str) -> str | None:
        for path, settings in (await self.connections()).items():
            if settings["connection"]["id"].value == conn_id:
                return path
        return None

    async def add_or_update(self, settings: ConnectionSettings) -> str:
        """Save a profile, replacing the one with the same id (a re-run of the step)."""
        existing = await self.connection_by_id(settings["connection"]["id"].value)
        if existing is None:
            (path,) = await self.call(SETTINGS_PATH, SETTINGS, "AddConnection", "a{sa{sv}}",
                                      [settings])
            return cast(str, path)
        (current,) = await self.call(existing, CONNECTION, "GetSettings")
        settings["connection"]["uuid"] = current["connection"]["uuid"]
        await self.call(existing, CONNECTION, "Update", "a{sa{sv}}", [settings])
        return existing

    async def activate(self, connection: str, device: str = "/") -> str:
        (active,) = await self.call(NM_PATH, NM, "ActivateConnection", "ooo",
                                    [connection, device, "/"])
        return cast(str, active)

    async def wait_activated(self, active: str, timeout_s: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        state = ActiveState.UNKNOWN
        while loop.time() < deadline:
            try:
                state = ActiveState(await self.prop(active, ACTIVE, "State"))
            except NetworkManagerError:
                state = ActiveState.DEACTIVATED  # the active object is gone: it failed
            if state is ActiveState.ACTIVATED:
                return
            if state is ActiveState.DEACTIVATED:
                break
            await asyncio.sleep(0.1)
        raise NetworkManagerError(f"the connection did not come up within {timeout_s:.0f} s "
                                  f"(state {state.name.lower()})")

    async def ip4(self, device: str) -> tuple[list[str], str]:
        """The device's IPv4 addresses (address/prefix) and gateway, as NM applied them."""
        config = await self.prop(device, DEVICE, "Ip4Config")
        if config in ("/", ""):
            return [], ""
        data = await self.prop(config, IP4CONFIG, "AddressData")
        addresses = [f"{a['address'].value}/{a['prefix'].value}" for a in data]
        return addresses, str(await self.prop(config, IP4CONFIG, "Gateway"))

    async def checkpoint_create(self, devices: list[str], *, rollback_timeout_s: int,
                                flags: int) -> str:
        (path,) = await self.call(NM_PATH, NM, "CheckpointCreate", "aouu",
                                  [devices, rollback_timeout_s, flags])
        return cast(str, path)

    async def checkpoint_rollback(self, checkpoint: str) -> None:
        await self.call(NM_PATH, NM, "CheckpointRollback", "o", [checkpoint])

    async def checkpoint_destroy(self, checkpoint: str) -> None:
        await self.call(NM_PATH, NM, "CheckpointDestroy", "o", [checkpoint])
