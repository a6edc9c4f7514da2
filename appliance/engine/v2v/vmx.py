"""VMware ``.vmx`` files: ``key = "value"`` lines describing CPUs, memory, disks on their
controllers, NICs and firmware. Disks must lie beside the ``.vmx`` (VMware's own layout), so
a crafted file cannot make the import read other files of the host. Their capacities are
left to the import pipeline, which asks a host what each image holds."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.engine.imports import vmdk
from appliance.engine.imports.model import ImageFormat, OvfDisk, OvfNic, OvfProducer, OvfSystem
from appliance.engine.imports.pipeline import DiskSource
from appliance.engine.model import MiB
from appliance.errors import ImageRejected

MAX_VMX = 1024 * 1024
_LINE = re.compile(r'^\s*([A-Za-z0-9_.:-]+)\s*=\s*"(.*)"\s*$')
_DISK_KEY = re.compile(r"^(scsi|sata|ide|nvme)(\d+):(\d+)\.present$")
_NIC_MODELS = {"e1000": "e1000", "e1000e": "e1000", "vlance": "rtl8139", "vmxnet3": "virtio",
               "vmxnet": "virtio", "vmxnet2": "virtio"}
_BUSES = {"ide": "ide", "sata": "sata", "scsi": "sata", "nvme": "sata"}
_EXTRAS = {"sound.present": "sound card", "usb.present": "USB controller",
           "usb_xhci.present": "USB 3 controller", "floppy0.present": "floppy drive",
           "serial0.present": "serial port", "parallel0.present": "parallel port",
           "vmci0.present": "VMCI device", "tools.syncTime": "VMware Tools time sync"}


def parse(text: str) -> dict[str, str]:
    """The settings of a .vmx (keys lower-cased, as VMware treats them)."""
    settings: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ImageRejected(f"Line {number} of the .vmx is not 'key = \"value\"'.")
        settings[match.group(1).lower()] = match.group(2)
    return settings


def read(path: Path) -> tuple[OvfSystem, list[DiskSource]]:
    if not path.is_file() or path.stat().st_size > MAX_VMX:
        raise ImageRejected(f"{path} is not a .vmx file of a reasonable size.")
    settings = parse(path.read_text(encoding="utf-8", errors="replace"))
    unmapped: list[str] = []
    sources = _disks(settings, path.parent, unmapped)
    nics = _nics(settings, unmapped)
    vcpus = _int(settings.get("numvcpus", "1"), "numvcpus")
    cores = _int(settings.get("cpuid.corespersocket", "1"), "cpuid.coresPerSocket")
    if cores < 1 or vcpus % cores:
        cores = 1
    if settings.get("firmware", "bios").lower() == "efi":
        unmapped.append("UEFI firmware (VirtStick boots VMs with SeaBIOS)")
    if "guestos" in settings:
        unmapped.append(f"operating system type '{settings['guestos']}' (set to 'other')")
    for key, what in _EXTRAS.items():
        if settings.get(key.lower(), "false").lower() == "true":
            unmapped.append(what)
    system = OvfSystem(
        name=settings.get("displayname", path.stem) or path.stem,
        memory=_int(settings.get("memsize", "0"), "memsize") * MiB,
        cpu_sockets=vcpus // cores, cpu_cores=cores, producer=OvfProducer.VMWARE,
        firmware=settings.get("firmware", "bios").lower(),
        disks=tuple(s.disk for s in sources), nics=tuple(nics), unmapped=tuple(unmapped),
        description=settings.get("annotation", "")[:1000])
    if system.memory <= 0:
        raise ImageRejected("The .vmx gives the VM no memory (memsize).")
    return system, sources


def _disks(settings: dict[str, str], directory: Path, unmapped: list[str]) -> list[DiskSource]:
    sources: list[DiskSource] = []
    for key in sorted(settings):
        match = _DISK_KEY.match(key)
        if match is None or settings[key].lower() != "true":
            continue
        bus, controller, unit = match.groups()
        prefix = f"{bus}{controller}:{unit}"
        device = settings.get(f"{prefix}.devicetype", "disk").lower()
        filename = settings.get(f"{prefix}.filename", "")
        if "cdrom" in device or "atapi" in device:
            unmapped.append(f"CD-ROM drive {prefix} ({filename or 'empty'})")
            continue
        if bus in ("scsi", "nvme"):
            model = settings.get(f"{bus}{controller}.virtualdev", bus)
            unmapped.append(f"{bus.upper()} controller '{model}' of disk {prefix} (the disk "
                            "is on SATA)")
        image = _beside(directory, filename, prefix)
        sources.append(_source(image, prefix, interface=_BUSES[bus], bootable=not sources))
    if not sources:
        raise ImageRejected("The .vmx has no disk.")
    return sources


def _source(image: Path, prefix: str, *, interface: str, bootable: bool) -> DiskSource:
    with image.open("rb") as data:
        head = data.read(512)
    fmt = ImageFormat.sniff(head)
    if fmt is ImageFormat.VMDK and vmdk.is_descriptor(head):
        extents = vmdk.check_extents(image)
        size = sum(e.stat().st_size for e in extents)
    else:
        size = image.stat().st_size
    disk = OvfDisk(disk_id=prefix, file_href=image.name, capacity=0,
                   interface=interface, bootable=bootable, alias=image.stem, file_size=size)
    return DiskSource(disk=disk, format=fmt, size=size, path=image)


def _beside(directory: Path, filename: str, prefix: str) -> Path:
    if not filename or "/" in filename or "\\" in filename or filename in (".", ".."):
        raise ImageRejected(f"Disk {prefix} is '{filename}'; a disk must be a file beside the "
                            ".vmx.")
    image = directory / filename
    if image.is_symlink() or not image.is_file():
        raise ImageRejected(f"Disk {prefix} ({filename}) is missing beside the .vmx.")
    return image


def _nics(settings: dict[str, str], unmapped: list[str]) -> list[OvfNic]:
    nics: list[OvfNic] = []
    for index in range(10):
        prefix = f"ethernet{index}"
        if settings.get(f"{prefix}.present", "false").lower() != "true":
            continue
        device = settings.get(f"{prefix}.virtualdev", "e1000").lower()
        model = _NIC_MODELS.get(device)
        if model is None:
            unmapped.append(f"NIC model '{device}' of {prefix} (mapped to e1000)")
            model = "e1000"
        elif device.startswith("vmxnet"):
            unmapped.append(f"NIC model '{device}' of {prefix} (mapped to virtio)")
        mac = settings.get(f"{prefix}.address") or settings.get(f"{prefix}.generatedaddress", "")
        nics.append(OvfNic(name=f"nic{len(nics) + 1}", model=model, mac=mac.lower(),
                           network=settings.get(f"{prefix}.networkname", "")))
    return nics


def _int(value: str, key: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ImageRejected(f"The .vmx's {key} '{value}' is not a whole number.") from None
