"""A new VM as ``Vms.create`` makes it: its row from the request and its template (the
template's values where the request gives none, each checked), what the template's disks
promise in storage, and the devices the VM takes over from its template."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from appliance.engine import mac_pools, validation, vm_settings
from appliance.engine.authz import Actor
from appliance.engine.enums import DisplayType
from appliance.engine.ids import new_id
from appliance.engine.model import Template, Vm
from appliance.engine.storage import Disks
from appliance.engine.store.schema import Store

if TYPE_CHECKING:  # the request is the service's own type; only its fields are read here
    from appliance.engine.vms import VmCreate

T = TypeVar("T")


def new_vm(store: Store, request: VmCreate, template: Template, *, cluster_id: str,
           actor: Actor) -> Vm:
    """The VM's row, every value checked; not stored yet."""
    memory = validation.memory(request.memory if request.memory is not None
                               else template.memory)
    return Vm(
        id=new_id(), name=request.name, cluster_id=cluster_id, memory=memory,
        template_id=template.id, description=request.description,
        cpu_sockets=validation.count(_pick(request.cpu_sockets, template.cpu_sockets),
                                     noun="CPU sockets"),
        cpu_cores=validation.count(_pick(request.cpu_cores, template.cpu_cores),
                                   noun="CPU cores"),
        cpu_threads=validation.count(_pick(request.cpu_threads, template.cpu_threads),
                                     noun="CPU threads", maximum=8),
        os_type=_pick(request.os_type, template.os_type),
        graphics=_graphics(request, template),
        boot=_pick(request.boot, template.boot),
        high_availability=request.high_availability,
        owner_id=None if actor.superuser else actor.user_id,
        created=time.time(),
        memory_guaranteed=request.memory_guaranteed, memory_max=request.memory_max,
        serial_number=vm_settings.check_serial_number(request.serial_number),
        placement=vm_settings.check_placement(store, cluster_id, request.placement),
        initialization=vm_settings.check_initialization(request.initialization),
    )


def template_disks_size(store: Store, template_id: str) -> int:
    """What a VM from the template promises in disks (thin layers or clones: the same)."""
    return sum(store.disks.get(a.disk_id).provisioned_size
               for a in store.attachments.where(vm_id=template_id))


def copy_template_devices(store: Store, disks: Disks, vm: Vm, *,
                          thin_disks: bool = True) -> None:
    """A VM from a template gets a thin layer over each template disk and its NICs."""
    for attachment in store.attachments.where(vm_id=vm.template_id) if thin_disks else ():
        base = store.disks.get(attachment.disk_id)
        disk = disks.create_layer_over(base, name=f"{vm.name}_{base.name}")
        store.attachments.insert(replace(attachment, id=disk.id, vm_id=vm.id,
                                         disk_id=disk.id))
    for nic in store.nics.where(vm_id=vm.template_id):
        store.nics.insert(replace(nic, id=new_id(), vm_id=vm.id,
                                  mac=mac_pools.allocate(store, vm.cluster_id)))


def _pick(value: T | None, default: T) -> T:
    return default if value is None else value


def _graphics(request: VmCreate, template: Template) -> tuple[DisplayType, ...]:
    if request.display is not None:
        return (request.display,)
    return vm_settings.check_graphics(_pick(request.graphics, template.graphics))
