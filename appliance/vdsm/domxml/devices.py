"""Device elements of a domain: disks, CD-ROMs, network interfaces, graphics, serial console."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET


def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


@dataclass(frozen=True)
class DiskDevice:
    path: Path
    target: str  # vda, sda...
    bus: str = "virtio"
    format: str = "qcow2"
    serial: str = ""
    boot_order: int | None = None
    read_only: bool = False

    def element(self) -> ET.Element:
        disk = ET.Element("disk", {"type": "file", "device": "disk"})
        # error_policy=stop pauses the guest when the RAM domain is full instead of letting
        # it see I/O errors; discard=unmap gives blocks the guest TRIMs back to the RAM
        # domain (holes in the qcow2 file), and detect_zeroes=unmap does the same for
        # blocks a guest frees by writing zeros.
        sub(disk, "driver", name="qemu", type=self.format, cache="writeback",
            error_policy="stop", discard="unmap", detect_zeroes="unmap")
        sub(disk, "source", file=str(self.path))
        sub(disk, "target", dev=self.target, bus=self.bus)
        if self.serial:
            sub(disk, "serial", self.serial[:20])
        if self.boot_order is not None:
            sub(disk, "boot", order=str(self.boot_order))
        if self.read_only:
            sub(disk, "readonly")
        return disk


@dataclass(frozen=True)
class CdromDevice:
    path: Path | None
    target: str = "sdz"
    boot_order: int | None = None

    def element(self) -> ET.Element:
        disk = ET.Element("disk", {"type": "file", "device": "cdrom"})
        sub(disk, "driver", name="qemu", type="raw")
        if self.path is not None:
            sub(disk, "source", file=str(self.path))
        sub(disk, "target", dev=self.target, bus="sata")
        sub(disk, "readonly")
        if self.boot_order is not None:
            sub(disk, "boot", order=str(self.boot_order))
        return disk


@dataclass(frozen=True)
class InterfaceDevice:
    """A NIC; ``attachment`` is ``bridge:NAME`` (a host bridge), ``network:NAME`` (a libvirt
    network, an isolated one of the appliance's) or ``user`` for QEMU's own user-mode
    network, which needs no bridge (development machines, tests)."""

    mac: str
    attachment: str
    model: str = "virtio"
    link_up: bool = True

    def element(self) -> ET.Element:
        kind, _, name = self.attachment.partition(":")
        interface = ET.Element("interface", {"type": kind if kind in ("bridge", "network")
                                             else "user"})
        sub(interface, "mac", address=self.mac)
        if kind == "bridge":
            sub(interface, "source", bridge=name)
        elif kind == "network":
            sub(interface, "source", network=name)
        sub(interface, "model", type=self.model)
        if not self.link_up:
            sub(interface, "link", state="down")
        return interface


@dataclass(frozen=True)
class GraphicsDevice:
    type: str = "vnc"
    listen: str = "127.0.0.1"
    password: str = ""

    def element(self) -> ET.Element:
        attrs = {"type": self.type, "autoport": "yes", "listen": self.listen}
        if self.password:
            attrs["passwd"] = self.password
        graphics = ET.Element("graphics", attrs)
        sub(graphics, "listen", type="address", address=self.listen)
        return graphics


@dataclass(frozen=True)
class SerialConsole:
    """The first serial port on a unix socket (to type into) with a log of everything it
    printed (to read): virtlogd keeps the log, so nothing is lost while nobody listens."""

    socket: Path
    log: Path

    def elements(self) -> list[ET.Element]:
        serial = ET.Element("serial", {"type": "unix"})
        sub(serial, "source", mode="bind", path=str(self.socket))
        sub(serial, "log", file=str(self.log), append="on")
        sub(serial, "target", port="0")
        console = ET.Element("console", {"type": "unix"})
        sub(console, "source", mode="bind", path=str(self.socket))
        sub(console, "target", type="serial", port="0")
        return [serial, console]
