"""The rules ``Vms`` applies to a VM's disks and NICs: when a disk may be attached and when
a device may go, how many disks the IDE bus holds, and one of a VM's devices by its id."""

from __future__ import annotations

from typing import Protocol, TypeVar

from appliance.engine.authz import Actor, require_vm
from appliance.engine.enums import DiskInterface, VmStatus
from appliance.engine.model import Vm
from appliance.engine.store.schema import Store
from appliance.errors import InvalidState, NotFound, NotSupported

IDE_DISKS = 4  # two IDE channels, two devices each (the CD-ROM is on SATA)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


U = TypeVar("U", bound=_HasId)


def require_attachable(actor: Actor, vm: Vm, *, active: bool) -> None:
    require_vm(actor, vm, "change the disks of")
    if vm.status is not VmStatus.DOWN and active:
        raise NotSupported("Disks can be attached to running VMs only inactive for now; "
                           "stop the VM first.")


def require_bus_room(store: Store, vm: Vm, interface: DiskInterface) -> None:
    """The VM's machine has two IDE channels of two devices each: a fifth IDE disk would
    make a VM that libvirt refuses to start (oVirt refuses it at attach as well)."""
    if interface is not DiskInterface.IDE:
        return
    ide = [a for a in store.attachments.where(vm_id=vm.id)
           if a.interface is DiskInterface.IDE]
    if len(ide) >= IDE_DISKS:
        raise InvalidState(f"VM '{vm.name}' has {len(ide)} IDE disks, the most its IDE "
                           "bus holds; attach this one as virtio, virtio_scsi or sata.")


def require_down(vm: Vm, *, before: str) -> None:
    """Disks are detached and NICs removed only from a VM that is down (no hot unplug)."""
    if vm.status is not VmStatus.DOWN:
        raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; stop it before {before}.")


def one_of(items: list[U], item_id: str, noun: str) -> U:
    for item in items:
        if item.id == item_id:
            return item
    raise NotFound(f"There is no {noun} with id '{item_id[:60]}' on this VM.")
