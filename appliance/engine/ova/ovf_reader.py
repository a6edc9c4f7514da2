"""Read OVF 1.x descriptors as oVirt, VMware and VirtualBox write them.

Elements are matched by local name, so the namespace spellings of different producers (older
oVirt and VirtStick releases wrote the envelope namespace with a trailing slash and sections as
``Section xsi:type``) all read the same. A section that is
not understood fails the import when it is marked required (the OVF default), and is
reported as not mapped otherwise, as the OVF specification asks.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from appliance.engine.imports.model import OvfDisk, OvfNic, OvfProducer, OvfSystem
from appliance.engine.ova import os_ids
from appliance.errors import ImageRejected

MAX_DESCRIPTOR = 4 * 1024 * 1024
_ENVELOPE_SECTIONS = {"References", "DiskSection", "NetworkSection", "DeploymentOptionSection",
                      "Info", "Strings", "VirtualSystem", "Content", "Annotation"}
_SYSTEM_SECTIONS = {"OperatingSystemSection", "VirtualHardwareSection", "ProductSection",
                    "AnnotationSection", "EulaSection", "StartupSection", "InstallSection",
                    "ResourceAllocationSection", "Machine"}
# Foreign guests have no virtio drivers: their SCSI disks go on SATA (AHCI), which every
# current OS drives, and the report says so.
_CONTROLLERS = {"5": "ide", "6": "sata", "20": "sata"}
_NIC_MODELS = {"e1000": "e1000", "e1000e": "e1000", "3": "virtio", "virtio": "virtio",
               "2": "e1000", "1": "rtl8139", "pcnet32": "rtl8139", "vmxnet3": "virtio",
               "am79c973": "rtl8139", "82540em": "e1000"}
_UNMAPPED_TYPES = {"14": "floppy drive", "15": "CD-ROM drive", "16": "DVD drive",
                   "23": "USB controller", "24": "sound card", "35": "sound card",
                   "1": "vendor device", "21": "USB controller"}


def read(data: bytes) -> OvfSystem:
    if len(data) > MAX_DESCRIPTOR:
        raise ImageRejected("The OVF descriptor is larger than 4 MiB; it is not a VM's.")
    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise ImageRejected(f"The OVF descriptor is not valid XML: {exc}") from None
    if _local(root.tag) != "Envelope":
        raise ImageRejected(f"The OVF descriptor's root is <{_local(root.tag)}>, "
                            "not <Envelope>.")
    files = _files(root)
    producer = _producer(data)
    unmapped: list[str] = []
    disks: dict[str, OvfDisk] = {}
    system: Element | None = None
    for child in root:
        kind = _kind(child)
        if kind == "DiskSection":
            for disk in _children(child, "Disk"):
                parsed = _disk(disk, files)
                disks[parsed.disk_id] = parsed
        elif kind in ("VirtualSystem", "Content"):
            if system is not None:
                raise ImageRejected("The OVF describes several virtual systems; import them "
                                    "one by one.")
            system = child
        elif kind == "VirtualSystemCollection":
            raise ImageRejected("The OVF describes a collection of virtual systems; import "
                                "them one by one.")
        elif kind not in _ENVELOPE_SECTIONS:
            _unknown(child, kind, unmapped)
    if system is None:
        raise ImageRejected("The OVF describes no virtual system.")
    return _system(system, disks, producer, unmapped)


def _system(element: Element, disks: dict[str, OvfDisk], producer: OvfProducer,
            unmapped: list[str]) -> OvfSystem:
    name = _text(element, "Name") or element.get(_attr(element, "id"), "") or "imported"
    settings: dict[str, object] = {"os_type": "other", "firmware": "bios"}
    hardware = None
    for child in element:
        kind = _kind(child)
        if kind == "VirtualHardwareSection":
            hardware = child
        elif kind == "OperatingSystemSection":
            settings["os_type"] = _os_type(child, producer, unmapped)
        elif kind in _SYSTEM_SECTIONS or not kind.endswith("Section"):
            continue  # oVirt's general elements (Name, TemplateId...) are plain children
        else:
            _unknown(child, kind, unmapped)
    if hardware is None:
        raise ImageRejected("The OVF's virtual system has no VirtualHardwareSection.")
    bios = _text(element, "BiosType")
    # oVirt's BiosType as its writer numbers it (4.3's): 2 q35 UEFI, 3 with Secure Boot.
    if bios in ("2", "3") or _vmware_config(hardware, "firmware") == "efi":
        unmapped.append("UEFI firmware (VirtStick boots VMs with SeaBIOS)")
    return _hardware(hardware, name=name, disks=disks, producer=producer, unmapped=unmapped,
                     os_type=str(settings["os_type"]),
                     is_template=_text(element, "TemplateType") == "TEMPLATE",
                     description=_text(element, "Description"))


def _hardware(section: Element, *, name: str, disks: dict[str, OvfDisk],
              producer: OvfProducer, unmapped: list[str], os_type: str,
              is_template: bool, description: str) -> OvfSystem:
    items = [i for i in section if _local(i.tag) in ("Item", "StorageItem", "EthernetPortItem")]
    by_instance = {_rasd(i, "InstanceID"): i for i in items}
    cpu = {"sockets": 1, "cores": 1, "threads": 1}
    memory = 0
    used_disks: list[OvfDisk] = []
    nics: list[OvfNic] = []
    for item in items:
        kind = _rasd(item, "ResourceType")
        if kind == "3":
            cpu = _cpu(item)
        elif kind == "4":
            memory = _quantity(_rasd(item, "VirtualQuantity"),
                               _rasd(item, "AllocationUnits") or "byte * 2^20")
        elif kind == "17":
            used_disks.append(_disk_item(item, disks, by_instance, bootable=not used_disks,
                                         unmapped=unmapped))
        elif kind == "10":
            nics.append(_nic(item, len(nics), unmapped))
        elif kind in _CONTROLLERS:
            continue
        elif kind == "23" and _rasd(item, "UsbPolicy").upper() == "DISABLED":
            continue  # oVirt writes its USB controller even when the VM has none
        elif kind in _UNMAPPED_TYPES:
            unmapped.append(f"{_UNMAPPED_TYPES[kind]} ({_rasd(item, 'ElementName') or kind})")
        else:
            unmapped.append(f"device of resource type {kind} "
                            f"({_rasd(item, 'ElementName') or 'unnamed'})")
    if memory <= 0:
        raise ImageRejected("The OVF gives the virtual system no memory.")
    return OvfSystem(name=name, memory=memory, cpu_sockets=cpu["sockets"],
                     cpu_cores=cpu["cores"], cpu_threads=cpu["threads"], os_type=os_type,
                     description=description, is_template=is_template, producer=producer,
                     disks=tuple(used_disks), nics=tuple(nics), unmapped=tuple(unmapped))


def _cpu(item: Element) -> dict[str, int]:
    vcpus = _int(_rasd(item, "VirtualQuantity") or "1", "CPU count")
    sockets = _rasd(item, "num_of_sockets")
    if sockets:  # oVirt
        return {"sockets": _int(sockets, "sockets"),
                "cores": _int(_rasd(item, "cpu_per_socket") or "1", "cores"),
                "threads": _int(_rasd(item, "threads_per_cpu") or "1", "threads")}
    cores = _child_text(item, "CoresPerSocket")  # VMware's vmw:CoresPerSocket
    per_socket = _int(cores, "cores per socket") if cores else 1
    if per_socket < 1 or vcpus % per_socket:
        per_socket = 1
    return {"sockets": vcpus // per_socket, "cores": per_socket, "threads": 1}


def _disk_item(item: Element, disks: dict[str, OvfDisk], by_instance: dict[str, Element],
               *, bootable: bool, unmapped: list[str]) -> OvfDisk:
    resource = _rasd(item, "HostResource")
    disk_id = resource.rsplit("/", 1)[-1] if resource else _rasd(item, "InstanceID")
    disk = disks.get(disk_id) or disks.get(_rasd(item, "InstanceID"))
    if disk is None:
        raise ImageRejected(f"The OVF's hardware names disk '{resource}', which its "
                            "DiskSection does not describe.")
    controller = by_instance.get(_rasd(item, "Parent"))
    interface = disk.interface
    if controller is not None and disk.interface == "virtio" and \
            _rasd(controller, "ResourceType") in _CONTROLLERS:
        interface = _CONTROLLERS[_rasd(controller, "ResourceType")]
        if _rasd(controller, "ResourceType") == "6":
            unmapped.append(f"SCSI controller '{_rasd(controller, 'ResourceSubType')}' of disk "
                            f"{disk.disk_id} (the disk is on SATA)")
    boot_order = _child_text(item, "BootOrder")
    is_boot = boot_order not in ("", "0") if boot_order else bootable
    return OvfDisk(disk_id=disk.disk_id, file_href=disk.file_href, capacity=disk.capacity,
                   interface=interface, bootable=is_boot or disk.bootable,
                   alias=disk.alias or _rasd(item, "ElementName") or _rasd(item, "Caption"),
                   image_id=disk.image_id, file_size=disk.file_size, sparse=disk.sparse)


def _nic(item: Element, index: int, unmapped: list[str]) -> OvfNic:
    subtype = _rasd(item, "ResourceSubType").lower()
    model = _NIC_MODELS.get(subtype)
    if model is None:
        unmapped.append(f"NIC model '{subtype or 'unspecified'}' (mapped to virtio)")
        model = "virtio"
    mac = _rasd(item, "MACAddress") or _rasd(item, "Address")
    if mac and not re.fullmatch(r"(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
        mac = ""
    name = _rasd(item, "Name") or _rasd(item, "ElementName") or f"nic{index + 1}"
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,50}", name):
        name = f"nic{index + 1}"
    return OvfNic(name=name, network=_rasd(item, "Connection"), model=model, mac=mac.lower())


def _disk(element: Element, files: dict[str, tuple[str, int]]) -> OvfDisk:
    disk_id = _ovf(element, "diskId")
    file_ref = _ovf(element, "fileRef")
    if not disk_id or file_ref not in files:
        raise ImageRejected(f"OVF disk '{disk_id}' refers to file '{file_ref}', which is not "
                            "in the References.")
    exact = _any_attr(element, "capacity-bytes")
    capacity = int(exact) if exact.isdigit() else _quantity(
        _ovf(element, "capacity"), _ovf(element, "capacityAllocationUnits") or "byte")
    href, size = files[file_ref]
    interface = {"virtio": "virtio", "virtio_scsi": "virtio_scsi", "ide": "ide",
                 "sata": "sata"}.get(_ovf(element, "disk-interface").lower(), "virtio")
    return OvfDisk(disk_id=disk_id, file_href=href, capacity=capacity, interface=interface,
                   bootable=_ovf(element, "boot") == "true", alias=_ovf(element, "disk-alias"),
                   image_id=_any_attr(element, "id") or disk_id, file_size=size,
                   sparse=_ovf(element, "volume-type").lower() != "preallocated")


def _files(root: Element) -> dict[str, tuple[str, int]]:
    found: dict[str, tuple[str, int]] = {}
    for references in _children(root, "References"):
        for item in _children(references, "File"):
            size = _ovf(item, "size") or "0"
            found[_ovf(item, "id")] = (_ovf(item, "href"), _int(size, "file size"))
    return found


def _os_type(section: Element, producer: OvfProducer, unmapped: list[str]) -> str:
    description = _text(section, "Description")
    if producer is OvfProducer.OVIRT and re.fullmatch(r"[a-z0-9_]{1,40}", description):
        return description
    if producer is OvfProducer.OVIRT:
        # oVirt writes the OS's display name; its own id says which it is.
        named = os_ids.name_of(_ovirt_attr(section, "id"))
        if named is not None:
            return named
    os_name = _any_attr(section, "osType") or description
    if os_name:
        unmapped.append(f"operating system type '{os_name}' (set to 'other')")
    return "other"


def _ovirt_attr(element: Element, name: str) -> str:
    return element.get(f"{{http://www.ovirt.org/ovf}}{name}", "")


def _vmware_config(section: Element, key: str) -> str:
    for child in section.iter():
        if _local(child.tag) == "Config" and _any_attr(child, "key") == key:
            return _any_attr(child, "value")
    return ""


def _unknown(element: Element, kind: str, unmapped: list[str]) -> None:
    if _ovf(element, "required") == "false":
        unmapped.append(f"OVF section {kind}")
        return
    raise ImageRejected(f"The OVF has a section '{kind}' that VirtStick does not understand "
                        "and that is required (ovf:required is not 'false').")


def _quantity(value: str, units: str) -> int:
    number = _int(value, "size")
    units = units.replace(" ", "").lower()
    if units in ("byte", "bytes", ""):
        return number
    named = {"kilobytes": 10, "megabytes": 20, "mb": 20, "gigabytes": 30, "gb": 30}
    if units in named:
        return number << named[units]
    match = re.fullmatch(r"byte\*(2\^(\d+)|(\d+))", units)
    if match is None:
        raise ImageRejected(f"The OVF uses unknown allocation units '{units}'.")
    factor = 1 << int(match.group(2)) if match.group(2) else int(match.group(3))
    return number * factor


def _producer(data: bytes) -> OvfProducer:
    if b"http://www.ovirt.org/ovf" in data or b"ENGINE " in data:
        return OvfProducer.OVIRT
    if b"http://www.vmware.com/schema/ovf" in data or b">vmx-" in data:
        return OvfProducer.VMWARE
    if b"http://www.virtualbox.org/ovf" in data or b"virtualbox-" in data:
        return OvfProducer.VIRTUALBOX
    return OvfProducer.OTHER


def _kind(element: Element) -> str:
    """A section's kind, from its tag or (oVirt's ``<Section xsi:type=...>``) its type."""
    local = _local(element.tag)
    if local in ("Section", "Content"):
        for name, value in element.attrib.items():
            if _local(name) == "type":
                kind = value.rsplit(":", 1)[-1].removesuffix("_Type")
                return "Content" if kind == "VirtualSystem" else kind
    return local


def _rasd(item: Element, name: str) -> str:
    return _child_text(item, name)


def _child_text(element: Element, name: str) -> str:
    wanted = name.lower()
    for child in element:
        if _local(child.tag).lower() == wanted:
            return (child.text or "").strip()
    return ""


def _text(element: Element, name: str) -> str:
    return _child_text(element, name)


def _children(element: Element, name: str) -> list[Element]:
    return [c for c in element if _local(c.tag) == name or _kind(c) == name]


def _ovf(element: Element, name: str) -> str:
    return _any_attr(element, name)


def _any_attr(element: Element, name: str) -> str:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return ""


def _attr(element: Element, name: str) -> str:
    for key in element.attrib:
        if _local(key) == name:
            return key
    return name


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ImageRejected(f"The OVF's {what} '{value}' is not a whole number.") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
