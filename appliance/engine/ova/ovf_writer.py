"""The OVF descriptor oVirt writes into its OVAs (DMTF OVF 1.x plus oVirt's own elements),
so that oVirt's "Import VM/Template from OVA" takes what VirtStick exports.

Disk capacities are in GiB (``byte * 2^30``) as oVirt writes them; file and disk ids are
the volume ids, and each disk's ``HostResource`` is ``<image id>/<volume id>``.
"""

from __future__ import annotations

import time
from xml.etree import ElementTree as ET

from appliance.engine.imports.model import OvfDisk, OvfNic, OvfSystem

OVF = "http://schemas.dmtf.org/ovf/envelope/1/"
RASD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
VSSD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OVIRT = "http://www.ovirt.org/ovf"
OVF_VERSION = "4.4.0.0"
GiB = 1 << 30

_INTERFACES = {"virtio": "VirtIO", "virtio_scsi": "VirtIO_SCSI", "sata": "SATA", "ide": "IDE"}
# oVirt's VmInterfaceType numbers, written as rasd:ResourceSubType.
_NIC_TYPES = {"rtl8139": "1", "e1000": "2", "virtio": "3"}

for _prefix, _uri in (("ovf", OVF), ("rasd", RASD), ("vssd", VSSD), ("xsi", XSI),
                      ("ovirt", OVIRT)):
    ET.register_namespace(_prefix, _uri)


def write(system: OvfSystem) -> bytes:
    root = ET.Element(f"{{{OVF}}}Envelope", {f"{{{OVF}}}version": OVF_VERSION})
    references = _sub(root, "References")
    for disk in system.disks:
        _sub(references, "File", **{_o("href"): disk.file_href, _o("id"): disk.file_href,
                                    _o("size"): str(disk.file_size),
                                    _o("description"): disk.alias})
    networks = _section(root, "NetworkSection_Type", "List of networks")
    for network in sorted({n.network for n in system.nics}):
        _sub(networks, "Network", **{_o("name"): network})
    disks = _section(root, "DiskSection_Type", "List of Virtual Disks")
    for disk in system.disks:
        _sub(disks, "Disk", **_disk_attributes(disk))
    content = _sub(root, "Content", **{_o("id"): "out", f"{{{XSI}}}type":
                                       "ovf:VirtualSystem_Type"})
    _general(content, system)
    os_section = _sub(content, "Section", **{_o("id"): system.id, _o("required"): "false",
                                             f"{{{XSI}}}type": "ovf:OperatingSystemSection_Type"})
    _sub(os_section, "Info", "Guest Operating System")
    _sub(os_section, "Description", system.os_type)
    _hardware(content, system)
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def _general(content: ET.Element, system: OvfSystem) -> None:
    created = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(system.created or time.time()))
    for tag, text in (
        ("Name", system.name), ("Description", system.description), ("Comment", ""),
        ("CreationDate", created),
        ("ExportDate", time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime())),
        ("TemplateId", system.id if system.is_template else system.template_id),
        ("TemplateName", system.name if system.is_template else system.template_name),
        ("IsStateless", "false"), ("Origin", "0"), ("VmType", "1"),
        ("DefaultDisplayType", "0"), ("BiosType", "1" if system.firmware == "bios" else "3"),
        ("MinAllocatedMem", str(system.memory >> 20)),
    ):
        _sub(content, tag, text)
    if system.is_template:
        _sub(content, "TemplateType", "TEMPLATE")
        _sub(content, "BaseTemplateId", system.id)


def _hardware(content: ET.Element, system: OvfSystem) -> None:
    vcpus = system.cpu_sockets * system.cpu_cores * system.cpu_threads
    memory_mb = system.memory >> 20
    hardware = _sub(content, "Section", **{f"{{{XSI}}}type": "ovf:VirtualHardwareSection_Type"})
    _sub(hardware, "Info", f"{vcpus} CPU, {memory_mb} Memory")
    _sub(_sub(hardware, "System"), "VirtualSystemType", f"ENGINE {OVF_VERSION}", ns=VSSD)
    _item(hardware, ("Caption", f"{vcpus} virtual cpu"), ("Description", "Number of virtual CPU"),
          ("InstanceId", "1"), ("ResourceType", "3"),
          ("num_of_sockets", str(system.cpu_sockets)), ("cpu_per_socket", str(system.cpu_cores)),
          ("threads_per_cpu", str(system.cpu_threads)), ("max_num_of_vcpus", str(vcpus)),
          ("VirtualQuantity", str(vcpus)))
    _item(hardware, ("Caption", f"{memory_mb} MB of memory"), ("Description", "Memory Size"),
          ("InstanceId", "2"), ("ResourceType", "4"), ("AllocationUnits", "MegaBytes"),
          ("VirtualQuantity", str(memory_mb)))
    for order, disk in enumerate(system.disks, start=1):
        _disk_item(hardware, system, disk, order)
    for nic in system.nics:
        _nic_item(hardware, nic)


def _disk_item(hardware: ET.Element, system: OvfSystem, disk: OvfDisk, order: int) -> None:
    item = _item(hardware, ("Caption", disk.alias), ("InstanceId", disk.disk_id),
                 ("ResourceType", "17"), ("HostResource", f"{disk.image_id}/{disk.disk_id}"),
                 ("Parent", "00000000-0000-0000-0000-000000000000"),
                 ("Template", "00000000-0000-0000-0000-000000000000"), ("ApplicationList", ""))
    for tag, text in (("Type", "disk"), ("Device", "disk"),
                      ("BootOrder", str(order) if disk.bootable else "0"),
                      ("IsPlugged", "true"), ("IsReadOnly", "false"), ("Alias", disk.alias)):
        _sub(item, tag, text)


def _nic_item(hardware: ET.Element, nic: OvfNic) -> None:
    item = _item(hardware, ("Caption", f"Ethernet adapter on {nic.network}"),
                 ("InstanceId", nic.name), ("ResourceType", "10"),
                 ("OtherResourceType", nic.network),
                 ("ResourceSubType", _NIC_TYPES.get(nic.model, "3")),
                 ("Connection", nic.network), ("Linked", "true"), ("Name", nic.name),
                 ("ElementName", nic.name), ("MACAddress", nic.mac), ("speed", "1000"))
    for tag, text in (("Type", "interface"), ("Device", "bridge"), ("IsPlugged", "true")):
        _sub(item, tag, text)


def _disk_attributes(disk: OvfDisk) -> dict[str, str]:
    capacity_gib = max(1, -(-disk.capacity // GiB))
    return {
        _o("diskId"): disk.disk_id, _o("size"): str(capacity_gib),
        _o("actual_size"): str(max(1, -(-disk.file_size // GiB))),
        _o("capacity"): str(capacity_gib), _o("capacityAllocationUnits"): "byte * 2^30",
        _o("populatedSize"): str(disk.file_size), _o("parentRef"): "",
        _o("fileRef"): disk.file_href,
        _o("format"): "http://www.gnome.org/~markmc/qcow-image-format.html",
        _o("volume-format"): "COW", _o("volume-type"): "Sparse",
        _o("disk-interface"): _INTERFACES.get(disk.interface, "VirtIO"),
        _o("read-only"): "false", _o("shareable"): "false",
        _o("boot"): "true" if disk.bootable else "false", _o("pass-discard"): "false",
        _o("disk-alias"): disk.alias, _o("disk-description"): "",
        _o("wipe-after-delete"): "false", f"{{{OVIRT}}}id": disk.image_id,
        # VirtStick reads the exact size back; oVirt ignores attributes it does not know.
        f"{{{OVIRT}}}capacity-bytes": str(disk.capacity),
    }


def _item(parent: ET.Element, *fields: tuple[str, str]) -> ET.Element:
    item = _sub(parent, "Item")
    for tag, text in fields:
        _sub(item, tag, text, ns=RASD)
    return item


def _section(root: ET.Element, kind: str, info: str) -> ET.Element:
    section = _sub(root, "Section", **{f"{{{XSI}}}type": f"ovf:{kind}"})
    _sub(section, "Info", info)
    return section


def _sub(parent: ET.Element, tag: str, text: str | None = None, *, ns: str | None = None,
         **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}" if ns else tag, attrs)
    if text is not None:
        element.text = text
    return element


def _o(name: str) -> str:
    return f"{{{OVF}}}{name}"
