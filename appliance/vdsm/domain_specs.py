"""A launch request as this host runs it: the engine's host-neutral ``LaunchRequest`` composed
into a ``domxml.DomainSpec`` with what only the host knows (volume paths, how each network
reaches the VM, the consoles' sockets, KVM or TCG)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.vdsm import domxml
from appliance.vdsm import networks as vdsm_networks
from appliance.vdsm.agent_interface import LaunchDisk, LaunchRequest
from appliance.vdsm.agent_settings import AgentSettings
from appliance.vdsm.storage_interface import VolumeId


@dataclass(frozen=True)
class HostSide:
    """What the host resolves for one launch."""

    volume_path: Callable[[VolumeId], Path]
    attachment: Callable[[vdsm_networks.NetworkNeed], str]  # bridge:X, user or network:X
    consoles: tuple[Path, Path]  # the serial console's socket and log
    # Called last: a VM whose network is missing does not probe QEMU for SPICE first.
    graphics: Callable[[], tuple[domxml.GraphicsDevice, ...]]


def domain_spec(request: LaunchRequest, settings: AgentSettings,
                host: HostSide) -> domxml.DomainSpec:
    order = _BootOrder(request.boot)
    disks = _disks(request.disks, order, host.volume_path)
    # Every VM has its CD-ROM drive, empty or not (as in oVirt), so an ISO image can be
    # put in or ejected while it runs: a SATA drive cannot be added to a running guest.
    cdroms = (domxml.CdromDevice(host.volume_path(request.cdrom)
                                 if request.cdrom is not None else None,
                                 boot_order=order.take("cdrom")),)
    interfaces = tuple(
        domxml.InterfaceDevice(mac=n.mac, attachment=host.attachment(n.need),
                               model=n.model, link_up=n.linked)
        for n in request.nics
    )
    socket_path, log_path = host.consoles
    return domxml.DomainSpec(
        uuid=request.vm_id,
        name=settings.domain_prefix + request.name,
        memory=request.memory,
        vcpus=request.vcpus,
        virt_type=settings.current_virt_type(),
        appliance_id=settings.appliance_id,
        disks=disks,
        cdroms=cdroms,
        interfaces=interfaces,
        graphics=host.graphics(),
        serial=domxml.SerialConsole(socket=socket_path, log=log_path),
        boot_network="network" in request.boot,
        serial_number=request.serial_number,
        tcg_cache_mib=settings.tcg_cache_mib,
    )


def _disks(disks: tuple[LaunchDisk, ...], order: _BootOrder,
           volume_path: Callable[[VolumeId], Path]) -> tuple[domxml.DiskDevice, ...]:
    targets = _targets([d.interface for d in disks])
    return tuple(
        domxml.DiskDevice(
            path=volume_path(d.volume),
            target=targets[index],
            bus=_bus(d.interface),
            format=d.format,
            serial=d.image_id,
            boot_order=order.take("hd") if d.bootable else None,
            read_only=d.read_only,
        )
        for index, d in enumerate(disks)
    )


class _BootOrder:
    """Hands out libvirt boot order numbers in the order the VM's boot devices list."""

    def __init__(self, devices: tuple[str, ...]) -> None:
        self._devices = devices
        self._taken: set[str] = set()

    def take(self, device: str) -> int | None:
        """The order of the first device of a kind; later ones of that kind boot no earlier."""
        if device not in self._devices or device in self._taken:
            return None
        self._taken.add(device)
        return self._devices.index(device) + 1


def _bus(interface: str) -> str:
    return {"virtio": "virtio", "virtio_scsi": "scsi", "sata": "sata", "ide": "ide"}.get(
        interface, "virtio")


def _targets(interfaces: list[str]) -> list[str]:
    """Device names as libvirt spells them, counted per bus (vda, vdb, ..., vdz, vdaa): by
    the position among all disks, the 27th ran past the alphabet and an IDE disk after three
    others of another bus got a name past hdd."""
    counts: dict[str, int] = {}
    names = []
    for interface in interfaces:
        prefix = {"virtio": "vd", "ide": "hd"}.get(interface, "sd")
        index = counts.get(prefix, 0)
        counts[prefix] = index + 1
        names.append(prefix + _letters(index))
    return names


def _letters(index: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa, as libvirt names disks."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters
