"""The ``<domain>`` element: a VM as libvirt runs it, with our metadata to find it again."""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET

from appliance.config import VirtType
from appliance.vdsm.domxml.balloon import Balloon
from appliance.vdsm.domxml.devices import (
    CdromDevice,
    DiskDevice,
    GraphicsDevice,
    InterfaceDevice,
    SerialConsole,
    sub,
)

METADATA_NS = "https://virtstick.org/xmlns/vm/1"


@dataclass(frozen=True)
class DomainSpec:
    uuid: str
    name: str
    memory: int  # bytes
    vcpus: int
    virt_type: VirtType  # kvm or qemu
    appliance_id: str
    disks: tuple[DiskDevice, ...] = ()
    cdroms: tuple[CdromDevice, ...] = ()
    interfaces: tuple[InterfaceDevice, ...] = ()
    graphics: tuple[GraphicsDevice, ...] = (GraphicsDevice(),)  # none: a headless VM
    serial: SerialConsole | None = None
    machine: str = "pc"
    boot_network: bool = False
    serial_number: str = ""  # the SMBIOS system serial the guest reads; "" for QEMU's
    balloon: Balloon = Balloon()
    # TCG only: QEMU's translated-code cache. QEMU 7.2 reserves 1 GiB per VM and fills it
    # in transparent huge pages; a small cache (QEMU's default before 5.0) keeps small lab
    # VMs small. None: QEMU's default.
    tcg_cache_mib: int | None = None

    def to_xml(self) -> str:
        domain = ET.Element("domain", {"type": self.virt_type.value})
        sub(domain, "name", self.name)
        sub(domain, "uuid", self.uuid)
        self._metadata(domain)
        if self.serial_number:
            sysinfo = sub(domain, "sysinfo", type="smbios")
            sub(sub(sysinfo, "system"), "entry", self.serial_number, name="serial")
        sub(domain, "memory", str(self.memory // 1024), unit="KiB")
        sub(domain, "currentMemory", str(self.memory // 1024), unit="KiB")
        sub(domain, "vcpu", str(self.vcpus), placement="static")
        os_element = sub(domain, "os")
        sub(os_element, "type", "hvm", arch="x86_64", machine=self.machine)
        if self.serial_number:
            sub(os_element, "smbios", mode="sysinfo")
        features = sub(domain, "features")
        sub(features, "acpi")
        sub(features, "apic")
        if self.virt_type is VirtType.QEMU and self.tcg_cache_mib is not None:
            sub(sub(features, "tcg"), "tb-cache", str(self.tcg_cache_mib), unit="MiB")
        if self.virt_type is VirtType.KVM:
            sub(domain, "cpu", mode="host-passthrough")
        sub(domain, "clock", offset="utc")
        sub(domain, "on_poweroff", "destroy")
        sub(domain, "on_reboot", "restart")
        sub(domain, "on_crash", "destroy")
        self._devices(domain)
        ET.indent(domain)
        return ET.tostring(domain, encoding="unicode") + "\n"

    def _metadata(self, domain: ET.Element) -> None:
        metadata = sub(domain, "metadata")
        ET.register_namespace("virtstick", METADATA_NS)
        sub(metadata, f"{{{METADATA_NS}}}vm", appliance=self.appliance_id, id=self.uuid)

    def _devices(self, domain: ET.Element) -> None:
        devices = sub(domain, "devices")
        for disk in self.disks:
            devices.append(disk.element())
        for cdrom in self.cdroms:
            devices.append(cdrom.element())
        for interface in self.interfaces:
            element = interface.element()
            if self.boot_network and interface is self.interfaces[0]:
                sub(element, "boot", order=str(len(self.disks) + len(self.cdroms) + 1))
            devices.append(element)
        if self.serial is not None:
            devices.extend(self.serial.elements())
        for graphics in self.graphics:
            devices.append(graphics.element())
        if self.graphics:
            sub(sub(devices, "video"), "model", type="vga", vram="16384", heads="1")
            sub(devices, "input", type="tablet", bus="usb")
        devices.append(self.balloon.element())


def parse_metadata(xml: str) -> tuple[str, str] | None:
    """The (appliance id, VM id) a domain of ours carries, or None for a foreign domain."""
    root = SafeET.fromstring(xml)
    found = root.find(f"metadata/{{{METADATA_NS}}}vm")
    if found is None:
        return None
    return found.get("appliance", ""), found.get("id", "")
