"""What a foreign description (an OVF, a VMware .vmx, a Xen configuration) says about one
virtual system, independent of who wrote it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class OvfProducer(StrEnum):
    OVIRT = "ovirt"
    VMWARE = "vmware"
    VIRTUALBOX = "virtualbox"
    OTHER = "other"


class ImageFormat(StrEnum):
    """Disk image formats we accept, named as qemu-img names them."""

    QCOW2 = "qcow2"
    VMDK = "vmdk"
    RAW = "raw"
    VDI = "vdi"

    @classmethod
    def sniff(cls, head: bytes) -> ImageFormat:
        """The format from the file's first bytes: never let qemu-img guess on foreign
        input (a raw file that looks like qcow2 could name a backing file on the host)."""
        if head.startswith(b"QFI\xfb"):
            return cls.QCOW2
        if head.startswith(b"KDMV") or head.lstrip().startswith(b"# Disk DescriptorFile"):
            return cls.VMDK
        if head[64:68] == b"\x7f\x10\xda\xbe":
            return cls.VDI
        return cls.RAW


@dataclass(frozen=True)
class OvfDisk:
    disk_id: str  # the id the descriptor uses (oVirt: the disk's id)
    file_href: str  # the archive member holding the image (oVirt: the volume id)
    capacity: int  # bytes
    interface: str = "virtio"
    bootable: bool = False
    alias: str = ""
    image_id: str = ""  # oVirt's disk id, when the producer is oVirt
    file_size: int = 0  # bytes of the image file in the archive
    sparse: bool = True  # thin (oVirt's volume-type Sparse) or preallocated


@dataclass(frozen=True)
class OvfNic:
    name: str
    network: str
    model: str = "virtio"
    mac: str = ""


@dataclass(frozen=True)
class OvfSystem:
    name: str
    memory: int  # bytes
    cpu_sockets: int = 1
    cpu_cores: int = 1
    cpu_threads: int = 1
    os_type: str = "other"
    description: str = ""
    is_template: bool = False
    producer: OvfProducer = OvfProducer.OTHER
    firmware: str = "bios"
    id: str = ""
    template_id: str = "00000000-0000-0000-0000-000000000000"
    template_name: str = "Blank"
    created: float = 0.0
    disks: tuple[OvfDisk, ...] = ()
    nics: tuple[OvfNic, ...] = ()
    # Devices and settings the descriptor has that VirtStick does not build, for the report.
    unmapped: tuple[str, ...] = field(default_factory=tuple)
