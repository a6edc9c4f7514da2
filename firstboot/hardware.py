"""What the machine has, for the welcome step: CPU virtualization, RAM, NICs and disks.

Devices come from pyudev; their details from udev's database (``ID_*`` properties) when
udevd has run, else from sysfs attributes (the first boot may be before udev settled, and
development machines have no udevd): every field says which one it came from.
``python -m firstboot.hardware`` prints the result as JSON (used by tests that run udevd in
a namespace, where the database is only visible from inside).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pyudev

from firstboot.answers import Facts

MIN_PERSISTENT_DISK_MIB = 64
_SKIPPED_DISKS = ("ram", "zram", "sr", "fd", "md", "dm-", "nbd")


class DataSource(StrEnum):
    UDEV = "udev"
    SYSFS = "sysfs"


class CpuVirtualization(StrEnum):
    INTEL_VTX = "vmx"
    AMD_V = "svm"
    NONE = "none"


@dataclass(frozen=True)
class Nic:
    name: str
    mac: str
    driver: str
    physical: bool  # backed by a device (not veth, bridge, tun)
    wireless: bool
    carrier: bool | None  # None: the link is down, carrier unknown
    speed_mbps: int | None
    model: str
    source: DataSource


@dataclass(frozen=True)
class Disk:
    node: str
    name: str
    kind: str  # "disk" or "partition"
    size_mib: int
    model: str
    removable: bool
    fs_type: str
    fs_label: str
    in_use: bool  # mounted, or holds something mounted: never offered for wiping
    source: DataSource


@dataclass(frozen=True)
class Hardware:
    cpu: CpuVirtualization
    kvm_device: bool
    ram_mib: int
    nics: tuple[Nic, ...]
    disks: tuple[Disk, ...]
    zram: bool = False  # the kernel can add zram devices (zram-control)

    def default_nic(self) -> str:
        wired = [n for n in self.nics if not n.wireless]
        for choice in ([n for n in wired if n.physical and n.carrier], [n for n in wired
                       if n.physical], wired, list(self.nics)):
            if choice:
                return choice[0].name
        return ""

    def persistent_candidates(self) -> tuple[Disk, ...]:
        return tuple(d for d in self.disks
                     if not d.in_use and d.size_mib >= MIN_PERSISTENT_DISK_MIB)

    def facts(self) -> Facts:
        return Facts(ram_mib=self.ram_mib, interfaces=frozenset(n.name for n in self.nics),
                     disks=frozenset(d.node for d in self.persistent_candidates()),
                     default_interface=self.default_nic(), zram=self.zram)

    def warnings(self) -> list[str]:
        notes = []
        if self.cpu is CpuVirtualization.NONE:
            notes.append("The CPU offers no hardware virtualization (VT-x/AMD-V) or it is "
                         "disabled in the firmware: VMs will run emulated, slowly.")
        elif not self.kvm_device:
            notes.append("/dev/kvm is missing: enable virtualization in the firmware setup.")
        if self.ram_mib < 4096:
            notes.append(f"Only {self.ram_mib} MiB of RAM: the lab will hold few VMs.")
        if not self.nics:
            notes.append("No network interface found: the lab works on this machine only.")
        return notes


def detect(*, include_loop: bool = False, bridge: str = "ovirtmgmt",
           zram_control: Path = Path("/sys/class/zram-control")) -> Hardware:
    context = pyudev.Context()
    cpu = _cpu_virtualization(Path("/proc/cpuinfo"))
    return Hardware(
        cpu=cpu,
        kvm_device=os.path.exists("/dev/kvm"),
        ram_mib=_ram_mib(Path("/proc/meminfo")),
        nics=tuple(sorted(_nics(context, bridge), key=lambda n: (not n.physical, n.name))),
        disks=tuple(sorted(_disks(context, include_loop), key=lambda d: d.node)),
        zram=(zram_control / "hot_add").exists(),
    )


def _nics(context: pyudev.Context, bridge: str) -> list[Nic]:
    nics = []
    for device in context.list_devices(subsystem="net"):
        sysdir = Path(device.sys_path)
        if (device.sys_name in ("lo", bridge) or _attr(sysdir / "type") != "1"
                or (sysdir / "bridge").exists() or (sysdir / "tun_flags").exists()):
            continue  # only Ethernet-like ports a bridge can take; not VMs' taps
        udev = _udev_properties(device)
        source = DataSource.UDEV if udev else DataSource.SYSFS
        operstate = _attr(sysdir / "operstate")
        carrier = _attr(sysdir / "carrier") if operstate != "down" else ""
        speed = _attr(sysdir / "speed")
        nics.append(Nic(
            name=device.sys_name,
            mac=_attr(sysdir / "address"),
            driver=udev.get("ID_NET_DRIVER") or _link_name(sysdir / "device/driver"),
            physical=(sysdir / "device").exists(),
            wireless=(sysdir / "wireless").exists() or (sysdir / "phy80211").exists(),
            carrier=None if carrier == "" else carrier == "1",
            speed_mbps=int(speed) if speed.lstrip("-").isdigit() and int(speed) > 0 else None,
            model=udev.get("ID_MODEL_FROM_DATABASE", ""),
            source=source,
        ))
    return nics


def _disks(context: pyudev.Context, include_loop: bool) -> list[Disk]:
    mounted = _mounted_devices(Path("/proc/self/mountinfo"))
    disks = []
    for device in context.list_devices(subsystem="block"):
        name = device.sys_name
        sysdir = Path(device.sys_path)
        size_mib = int(_attr(sysdir / "size") or 0) * 512 // 2**20
        if (name.startswith(_SKIPPED_DISKS) or size_mib == 0
                or (name.startswith("loop") and not include_loop)):
            continue
        udev = _udev_properties(device)
        disks.append(Disk(
            node=device.device_node or f"/dev/{name}",
            name=name,
            kind=device.device_type or "disk",
            size_mib=size_mib,
            model=udev.get("ID_MODEL", "") or _attr(sysdir / "device/model"),
            removable=_attr(sysdir / "removable") == "1" or udev.get("ID_BUS") == "usb",
            fs_type=udev.get("ID_FS_TYPE", ""),
            fs_label=udev.get("ID_FS_LABEL", ""),
            in_use=_in_use(sysdir, mounted) or _attr(sysdir / "ro") == "1",
            source=DataSource.UDEV if udev else DataSource.SYSFS,
        ))
    return disks


def _udev_properties(device: pyudev.Device) -> dict[str, str]:
    """udev's ID_* properties, empty when udevd has not processed the device."""
    if not device.is_initialized:
        return {}
    return {k: str(v) for k, v in device.properties.items() if k.startswith("ID_")}


def _in_use(sysdir: Path, mounted: set[str]) -> bool:
    """Mounted, held by another device (LVM, RAID), or a disk with such a partition."""
    if _attr(sysdir / "dev") in mounted or any((sysdir / "holders").glob("*")):
        return True
    return any(_attr(part / "dev") in mounted or any((part / "holders").glob("*"))
               for part in sysdir.glob(f"{sysdir.name}*") if (part / "partition").exists())


def _mounted_devices(mountinfo: Path) -> set[str]:
    return {line.split()[2] for line in mountinfo.read_text().splitlines()}


def _cpu_virtualization(cpuinfo: Path) -> CpuVirtualization:
    for line in cpuinfo.read_text().splitlines():
        if line.startswith("flags"):
            flags = line.split(":", 1)[1].split()
            for kind in (CpuVirtualization.INTEL_VTX, CpuVirtualization.AMD_V):
                if kind.value in flags:
                    return kind
    return CpuVirtualization.NONE


def _ram_mib(meminfo: Path) -> int:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    return 0


def _attr(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""  # absent, or unreadable while the link is down (carrier, speed)


def _link_name(path: Path) -> str:
    return os.path.basename(os.readlink(path)) if path.is_symlink() else ""


def main(argv: list[str]) -> int:
    hardware = detect(include_loop="--include-loop" in argv)
    json.dump(dataclasses.asdict(hardware), sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
