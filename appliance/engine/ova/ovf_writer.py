"""The OVF descriptor as oVirt's ``OvfOvaWriter`` writes it into its OVAs, so that oVirt's
"Import VM/Template from OVA" (``OvfOvaReader``) and the SDK's OVA examples take it.

oVirt's layout, followed where its reader is strict: the envelope namespace
``http://schemas.dmtf.org/ovf/envelope/1`` (no trailing slash), also the default namespace;
sections as elements (``DiskSection``, ``VirtualSystem ovf:id=...``,
``OperatingSystemSection``, ``VirtualHardwareSection``), not ``Section xsi:type``; a disk's
``ovf:diskId`` is the disk's id and its ``ovf:fileRef`` the volume id, which names the
archive member; capacities in ``byte * 2^30``; hardware items keyed by ``rasd:InstanceID``;
a drive's ``rasd:HostResource`` is ``ovf:/disk/<disk id>``, matched by the reader against
the disk's ``ovf:description``. Elements are written unprefixed (in the default namespace)
and attributes ``ovf:``-prefixed, as oVirt's writer spells them: written as text, since
ElementTree would choose the prefixes itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from appliance.engine.imports.model import OvfDisk, OvfNic, OvfSystem
from appliance.engine.ova import os_ids

OVF = "http://schemas.dmtf.org/ovf/envelope/1"
RASD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
VSSD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OVIRT = "http://www.ovirt.org/ovf"
OVF_VERSION = "4.4.0.0"
GiB = 1 << 30
EMPTY_ID = "00000000-0000-0000-0000-000000000000"

_INTERFACES = {"virtio": "VirtIO", "virtio_scsi": "VirtIO_SCSI", "sata": "SATA", "ide": "IDE"}
# oVirt's VmInterfaceType numbers, written as rasd:ResourceSubType.
_NIC_TYPES = {"rtl8139": "1", "e1000": "2", "virtio": "3"}
_QCOW = "http://www.gnome.org/~markmc/qcow-image-format.html"



@dataclass
class _Element:
    name: str  # as written: "Disk", "rasd:Caption"
    attributes: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    children: list[_Element] = field(default_factory=list)

    def write(self, out: list[str], depth: int) -> None:
        pad = "  " * depth
        attrs = "".join(f" {k}={quoteattr(v)}" for k, v in self.attributes.items())
        if self.children:
            out.append(f"{pad}<{self.name}{attrs}>\n")
            for child in self.children:
                child.write(out, depth + 1)
            out.append(f"{pad}</{self.name}>\n")
        elif self.text:
            out.append(f"{pad}<{self.name}{attrs}>{escape(self.text)}</{self.name}>\n")
        else:
            out.append(f"{pad}<{self.name}{attrs}/>\n")


def write(system: OvfSystem) -> bytes:
    root = _Element("ovf:Envelope", {
        "xmlns:ovf": OVF, "xmlns:rasd": RASD, "xmlns:vssd": VSSD, "xmlns:xsi": XSI,
        "xmlns": OVF, "xmlns:ovirt": OVIRT, "ovf:version": OVF_VERSION})
    references = _sub(root, "References")
    for disk in system.disks:
        _sub(references, "File", attrs={"ovf:href": disk.file_href, "ovf:id": disk.file_href,
                                        "ovf:size": str(disk.file_size)})
    networks = _sub(root, "NetworkSection")
    _sub(networks, "Info", "List of networks")
    for network in sorted({n.network for n in system.nics if n.network}):
        _sub(networks, "Network", attrs={"ovf:name": network})
    disks = _sub(root, "DiskSection")
    _sub(disks, "Info", "List of Virtual Disks")
    for disk in system.disks:
        _sub(disks, "Disk", attrs=_disk_attributes(disk))
    content = _sub(root, "VirtualSystem", attrs={"ovf:id": system.id})
    _general(content, system)
    _os_section(content, system.os_type)
    _hardware(content, system)
    out = ["<?xml version='1.0' encoding='UTF-8'?>\n"]
    root.write(out, 0)
    return "".join(out).encode("utf-8")


def _general(content: _Element, system: OvfSystem) -> None:
    created = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(system.created or time.time()))
    for tag, text in (
        ("Name", system.name), ("Description", system.description), ("Comment", ""),
        ("CreationDate", created),
        ("ExportDate", time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())),
        ("DeleteProtected", "false"), ("IsSmartcardEnabled", "false"),
        ("NumOfIoThreads", "0"), ("TimeZone", "Etc/GMT"), ("default_boot_sequence", "0"),
        ("Generation", "1"), ("ClusterCompatibilityVersion", "4.7"), ("VmType", "1"),
        ("MinAllocatedMem", str(system.memory >> 20)), ("IsStateless", "false"),
        ("IsRunAndPause", "false"), ("AutoStartup", "false"), ("Priority", "1"),
        ("IsBootMenuEnabled", "false"), ("IsSpiceFileTransferEnabled", "true"),
        ("IsSpiceCopyPasteEnabled", "true"), ("AllowConsoleReconnect", "true"),
        ("ConsoleDisconnectAction", "LOCK_SCREEN"), ("ConsoleDisconnectActionDelay", "0"),
        ("CustomEmulatedMachine", ""),
        # oVirt's BiosType, written as 4.3 numbered it: 0 i440fx SeaBIOS, 2 q35 UEFI.
        ("BiosType", "0" if system.firmware == "bios" else "2"),
        ("CustomCpuName", ""), ("PredefinedProperties", ""), ("UserDefinedProperties", ""),
        ("MaxMemorySizeMb", str(max(system.memory >> 20, 1) * 4)),
        ("MultiQueuesEnabled", "true"), ("VirtioScsiMultiQueuesEnabled", "false"),
        ("UseHostCpu", "false"), ("BalloonEnabled", "true"), ("CpuPinningPolicy", "0"),
    ):
        _sub(content, tag, text)
    if system.is_template:
        for tag, text in (("TemplateId", system.id), ("Origin", "0"),
                          ("DefaultDisplayType", "2"), ("IsDisabled", "false"),
                          ("TrustedService", "false"), ("TemplateType", "TEMPLATE"),
                          ("BaseTemplateId", system.id), ("TemplateVersionNumber", "1"),
                          ("TemplateVersionName", "base version"),
                          ("TemplateSealed", "false")):
            _sub(content, tag, text)
        return
    for tag, text in (("TemplateId", EMPTY_ID), ("IsInitilized", "false"), ("Origin", "0"),
                      ("DefaultDisplayType", "2"), ("TrustedService", "false"),
                      ("OriginalTemplateId", system.template_id),
                      ("OriginalTemplateName", system.template_name),
                      ("UseLatestVersion", "false")):
        _sub(content, tag, text)


def _os_section(content: _Element, os_type: str) -> None:
    ovirt_id, cim_id = os_ids.ids(os_type)
    section = _sub(content, "OperatingSystemSection", attrs={
        "ovf:id": str(cim_id), "ovirt:id": str(ovirt_id), "ovf:required": "false"})
    _sub(section, "Info", "Guest Operating System")
    _sub(section, "Description", os_type)


def _hardware(content: _Element, system: OvfSystem) -> None:
    vcpus = system.cpu_sockets * system.cpu_cores * system.cpu_threads
    memory_mb = system.memory >> 20
    hardware = _sub(content, "VirtualHardwareSection")
    _sub(hardware, "Info", f"{vcpus} CPU, {memory_mb} Memory")
    _sub(_sub(hardware, "System"), "vssd:VirtualSystemType", f"ENGINE {OVF_VERSION}")
    _item(hardware, ("Caption", f"{vcpus} virtual cpu"), ("Description", "Number of virtual CPU"),
          ("InstanceID", "1"), ("ResourceType", "3"),
          ("num_of_sockets", str(system.cpu_sockets)), ("cpu_per_socket", str(system.cpu_cores)),
          ("threads_per_cpu", str(system.cpu_threads)), ("max_num_of_vcpus", str(vcpus)),
          ("VirtualQuantity", str(vcpus)))
    _item(hardware, ("Caption", f"{memory_mb} MB of memory"), ("Description", "Memory Size"),
          ("InstanceID", "2"), ("ResourceType", "4"), ("AllocationUnits", "MegaBytes"),
          ("VirtualQuantity", str(memory_mb)))
    for order, disk in enumerate(system.disks, start=1):
        _disk_item(hardware, system, disk, order)
    for nic in system.nics:
        _nic_item(hardware, nic)
    _item(hardware, ("Caption", "USB Controller"), ("InstanceID", "3"), ("ResourceType", "23"),
          ("UsbPolicy", "DISABLED"))


def _disk_item(hardware: _Element, system: OvfSystem, disk: OvfDisk, order: int) -> None:
    created = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(system.created or time.time()))
    item = _item(hardware, ("Caption", disk.alias), ("InstanceID", disk.file_href),
                 ("ResourceType", "17"), ("HostResource", f"ovf:/disk/{disk.disk_id}"),
                 ("Parent", EMPTY_ID), ("Template", EMPTY_ID), ("ApplicationList", ""),
                 ("CreationDate", created), ("LastModified", created),
                 ("last_modified_date", created))
    for tag, text in (("Type", "disk"), ("Device", "disk"),
                      ("BootOrder", str(order) if disk.bootable else "0"),
                      ("IsPlugged", "true"), ("IsReadOnly", "false"),
                      ("Alias", f"ua-{disk.disk_id}")):
        _sub(item, tag, text)


def _nic_item(hardware: _Element, nic: OvfNic) -> None:
    item = _item(hardware, ("Caption", f"Ethernet adapter on {nic.network or '[No Network]'}"),
                 ("InstanceID", nic.name), ("ResourceType", "10"),
                 ("OtherResourceType", nic.network),
                 ("ResourceSubType", _NIC_TYPES.get(nic.model, "3")),
                 ("Connection", nic.network), ("Linked", "true"), ("Name", nic.name),
                 ("ElementName", nic.name), ("MACAddress", nic.mac), ("speed", "1000"))
    for tag, text in (("Type", "interface"), ("Device", "bridge"), ("IsPlugged", "true")):
        _sub(item, tag, text)


def _disk_attributes(disk: OvfDisk) -> dict[str, str]:
    return {
        "ovf:diskId": disk.disk_id, "ovf:capacity": str(max(1, -(-disk.capacity // GiB))),
        "ovf:capacityAllocationUnits": "byte * 2^30",
        "ovf:populatedSize": str(disk.file_size), "ovf:parentRef": "",
        "ovf:fileRef": disk.file_href, "ovf:format": _QCOW, "ovf:volume-format": "COW",
        "ovf:volume-type": "Sparse" if disk.sparse else "Preallocated",
        "ovf:disk-interface": _INTERFACES.get(disk.interface, "VirtIO"),
        "ovf:boot": "true" if disk.bootable else "false", "ovf:pass-discard": "false",
        "ovf:disk-alias": disk.alias, "ovf:disk-description": "",
        "ovf:wipe-after-delete": "false",
        # OvfOvaReader finds a drive's disk by this description (the HostResource's id).
        "ovf:description": disk.disk_id, "ovf:disk_storage_type": "IMAGE",
        "ovf:cinder_volume_type": "", "ovf:incremental-backup": "false",
        # VirtStick reads the exact size back; oVirt ignores attributes it does not know.
        "ovirt:capacity-bytes": str(disk.capacity),
    }


def _item(parent: _Element, *fields: tuple[str, str]) -> _Element:
    item = _sub(parent, "Item")
    for tag, text in fields:
        _sub(item, f"rasd:{tag}", text)
    return item


def _sub(parent: _Element, name: str, text: str | None = None, *,
         attrs: dict[str, str] | None = None) -> _Element:
    element = _Element(name, dict(attrs or {}), text)
    parent.children.append(element)
    return element
