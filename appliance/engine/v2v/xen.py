"""Xen guests: an xl (or xm) configuration file with its disk images. The file is Python-like
``key = value`` assignments; it is read with ``ast`` and literals only, never executed. The
disks' capacities are left to the import pipeline, which asks a host what each image holds."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from appliance.engine.imports.model import ImageFormat, OvfDisk, OvfNic, OvfProducer, OvfSystem
from appliance.engine.imports.pipeline import DiskSource
from appliance.engine.model import MiB
from appliance.errors import ImageRejected

MAX_CONFIG = 256 * 1024
_NIC_MODELS = {"e1000": "e1000", "rtl8139": "rtl8139", "virtio-net": "virtio",
               "netfront": "virtio"}
_FORMATS = {"raw": ImageFormat.RAW, "qcow2": ImageFormat.QCOW2, "vmdk": ImageFormat.VMDK,
            "vhd": None, "qcow": None}


def parse(text: str) -> dict[str, Any]:
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ImageRejected(f"The Xen configuration is not valid: line {exc.lineno}: "
                            f"{exc.msg}.") from None
    settings: dict[str, Any] = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            raise ImageRejected(f"Line {statement.lineno} of the Xen configuration is not a "
                                "plain 'key = value'.")
        try:
            settings[statement.targets[0].id] = ast.literal_eval(statement.value)
        except ValueError:
            raise ImageRejected(f"The value of '{statement.targets[0].id}' is not a literal."
                                ) from None
    return settings


def read(path: Path) -> tuple[OvfSystem, list[DiskSource]]:
    if not path.is_file() or path.stat().st_size > MAX_CONFIG:
        raise ImageRejected(f"{path} is not a Xen configuration file of a reasonable size.")
    settings = parse(path.read_text(encoding="utf-8", errors="replace"))
    unmapped: list[str] = []
    kind = str(settings.get("type") or settings.get("builder") or "pv").lower()
    if kind not in ("hvm", "generic"):
        unmapped.append(f"{kind.upper()} guest: it boots from its disk under full "
                        "virtualization; its kernel must have drivers for the virtual disks")
    for key in ("kernel", "ramdisk", "bootloader", "extra", "pci", "vfb", "usbdevice"):
        if key in settings:
            unmapped.append(f"setting '{key}' ({str(settings[key])[:60]})")
    if str(settings.get("bios", "")).lower() == "ovmf":
        unmapped.append("UEFI firmware (VirtStick boots VMs with SeaBIOS)")
    found = [_disk(spec, path.parent, index, unmapped=unmapped)
             for index, spec in enumerate(_list(settings.get("disk")))]
    sources = [s for s in found if s is not None]
    if not sources:
        raise ImageRejected("The Xen configuration has no disk image.")
    nics = [_nic(spec, index, unmapped) for index, spec in enumerate(_list(settings.get("vif")))]
    system = OvfSystem(
        name=str(settings.get("name", path.stem)), producer=OvfProducer.OTHER,
        memory=_int(settings.get("memory", 0), "memory") * MiB,
        cpu_sockets=_int(settings.get("vcpus", 1), "vcpus"), disks=tuple(s.disk for s in sources),
        nics=tuple(nics), unmapped=tuple(unmapped))
    if system.memory <= 0:
        raise ImageRejected("The Xen configuration gives the guest no memory.")
    return system, sources


def _disk(spec: str, directory: Path, index: int, *,
          unmapped: list[str]) -> DiskSource | None:
    options = _disk_spec(str(spec))
    target = options.get("target", "")
    vdev = options.get("vdev", f"xvd{'abcdefgh'[index % 8]}")
    if "cdrom" in options.get("devtype", "") or vdev.endswith(":cdrom"):
        unmapped.append(f"CD-ROM {vdev} ({target or 'empty'})")
        return None
    if target.startswith("/dev/") or options.get("backendtype") == "phy":
        raise ImageRejected(f"Disk {vdev} is the host device {target}; copy it to an image "
                            "file first.")
    image = (directory / target) if not target.startswith("/") else Path(target)
    if image.is_symlink() or not image.is_file():
        raise ImageRejected(f"Disk {vdev} ({target}) is not an image file.")
    with image.open("rb") as data:
        sniffed = ImageFormat.sniff(data.read(512))
    declared = options.get("format", "")
    fmt = _FORMATS.get(declared, sniffed) if declared else sniffed
    if fmt is None:
        raise ImageRejected(f"Disk {vdev} is in {declared} format, which VirtStick does not "
                            "convert; convert it to raw or qcow2 first.")
    if fmt is not sniffed:
        raise ImageRejected(f"Disk {vdev} says format {declared} but holds {sniffed.value}.")
    interface = "ide" if vdev.startswith("hd") else "sata" if vdev.startswith("sd") else "virtio"
    if vdev.startswith("xvd"):
        unmapped.append(f"Xen PV disk {vdev} (on virtio: the guest needs virtio_blk)")
    disk = OvfDisk(disk_id=vdev, file_href=image.name, capacity=0, interface=interface,
                   bootable=index == 0, alias=image.stem, file_size=image.stat().st_size)
    return DiskSource(disk=disk, format=fmt, size=image.stat().st_size, path=image)


def _disk_spec(spec: str) -> dict[str, str]:
    """xl's disk syntax: ``key=value`` pairs, or positional ``target,format,vdev,access``
    (four fields, some empty) or the older ``file:/path,xvda,w``."""
    options: dict[str, str] = {}
    positional = []
    for part in (p.strip() for p in spec.split(",")):
        key, sep, value = part.partition("=")
        if sep and key in ("target", "format", "vdev", "access", "devtype", "backendtype",
                           "backend", "script"):
            options[key] = value
        else:
            positional.append(part)
    names = (("target", "format", "vdev", "access") if len(positional) >= 4
             else ("target", "vdev", "access"))
    for name, value in zip(names, positional, strict=False):
        if value:
            options.setdefault(name, value)
    target = options.get("target", "")
    for prefix in ("file:", "tap:aio:", "tap:qcow2:", "qcow2:", "raw:", "aio:"):
        if target.startswith(prefix):
            if "qcow2" in prefix:
                options.setdefault("format", "qcow2")
            target = target[len(prefix):]
    if target.startswith("phy:"):
        options["backendtype"] = "phy"
        target = target[4:]
    options["target"] = target
    return options


def _nic(spec: str, index: int, unmapped: list[str]) -> OvfNic:
    options = dict(p.strip().partition("=")[::2] for p in str(spec).split(",") if "=" in p)
    model = options.get("model", "netfront")
    mapped = _NIC_MODELS.get(model)
    if mapped is None or model == "netfront":
        unmapped.append(f"NIC model '{model}' of vif {index} (mapped to virtio)")
    mac = options.get("mac", "")
    if not re.fullmatch(r"(?i)[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac):
        mac = ""
    return OvfNic(name=f"nic{index + 1}", model=mapped or "virtio", mac=mac.lower(),
                  network=options.get("bridge", ""))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _int(value: Any, key: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ImageRejected(f"The Xen configuration's {key} '{value}' is not a whole number."
                            ) from None
