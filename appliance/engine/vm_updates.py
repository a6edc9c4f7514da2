"""Editing a VM: its name, description, memory and memory policy, CPUs, boot order, display,
operating system, serial number, placement, high availability and initialization.

What QEMU was started with (name, memory, CPUs, boot order, display, operating system,
serial number) changes only while the VM is down, so the next start uses it; the rest
changes at any time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from appliance.engine import datacenter_quotas, quotas, validation, vm_settings
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_manage_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import BootDevice, DisplayType, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import SerialNumber, Vm, VmPlacement
from appliance.engine.placement import Placement
from appliance.engine.vms import Vms
from appliance.errors import InvalidState, NameInUse

# Fields that take effect at the next start: refused while the VM runs.
_HARDWARE = ("name", "memory", "memory_max", "cpu_sockets", "cpu_cores", "cpu_threads",
             "boot", "graphics", "os_type", "serial_number")


@dataclass(frozen=True)
class VmUpdate:
    """Only the fields given (not None) change."""

    name: str | None = None
    description: str | None = None
    memory: int | None = None
    cpu_sockets: int | None = None
    boot: tuple[BootDevice, ...] | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    memory_guaranteed: int | None = None
    memory_max: int | None = None
    display: DisplayType | None = None  # this display alone: oVirt resets the consoles to it
    graphics: tuple[DisplayType, ...] | None = None  # the graphical consoles
    os_type: str | None = None
    serial_number: SerialNumber | None = None
    placement: VmPlacement | None = None
    high_availability: bool | None = None
    initialization: tuple[tuple[str, str], ...] | None = None
    lease_storage_domain_id: str | None = None


class VmUpdates:
    def __init__(self, ctx: EngineContext, vms: Vms, placement: Placement) -> None:
        self.ctx = ctx
        self.vms = vms
        self.placement = placement

    @audited(AuditAction.VM_UPDATE_UPDATE)
    def update(self, vm_id: str, request: VmUpdate, *, actor: Actor) -> Vm:
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_manage_vm(actor, vm, "edit")
            changes = self._changes(vm, request)
            hardware = sorted(set(changes) & set(_HARDWARE))
            if hardware and vm.status is not VmStatus.DOWN:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}: its "
                                   f"{', '.join(f.replace('_', ' ') for f in hardware)} can "
                                   "change only while it is down.")
            if vm.owner_id == actor.user_id:  # the owner's quota carries the VM
                changed = replace(vm, **changes)
                quotas.require(self.ctx.store, self.ctx.config.quotas, actor,
                               memory=changed.memory - vm.memory,
                               vcpus=changed.vcpus - vm.vcpus)
            if not changes:
                return vm
            edited = vm_settings.check_memory_policy(replace(vm, **changes))
            if "memory" in changes:
                self.placement.require_memory_fits(vm.cluster_id, edited.memory)
            datacenter_quotas.require(  # the data center's quotas carry growth only
                self.ctx, cluster_id=vm.cluster_id, memory=max(0, edited.memory - vm.memory),
                vcpus=max(0, edited.vcpus - vm.vcpus))
            with self.ctx.store.db.transaction():
                if "name" in changes and self.ctx.store.vms.by_name(changes["name"]):
                    raise NameInUse(f"The name '{changes['name']}' is already used by "
                                    "another VM.")
                updated = self.ctx.store.vms.update(edited)
        self.ctx.events.record(
            EventCode.VM_UPDATED, f"VM {updated.name} was edited by {actor.name} "
            f"({', '.join(sorted(changes))}).", vm_id=vm.id, user=actor.name)
        return updated

    def _changes(self, vm: Vm, request: VmUpdate) -> dict[str, Any]:
        """The fields the request changes, checked."""
        asked = {name: value for name, value in vars(request).items()
                 if value is not None and value != getattr(vm, name)}
        display = asked.pop("display", None)
        if display is not None:
            asked["graphics"] = (display,)
        checks: dict[str, Callable[[Any], Any]] = {
            "name": lambda v: validation.name(v, noun="VM"),
            "memory": validation.memory,
            "cpu_sockets": lambda v: validation.count(v, noun="CPU sockets"),
            "cpu_cores": lambda v: validation.count(v, noun="CPU cores"),
            "cpu_threads": lambda v: validation.count(v, noun="CPU threads", maximum=8),
            "boot": _boot,
            "graphics": vm_settings.check_graphics,
            "serial_number": vm_settings.check_serial_number,
            "placement": lambda v: vm_settings.check_placement(self.ctx.store, vm.cluster_id,
                                                               v),
            "initialization": vm_settings.check_initialization,
            "lease_storage_domain_id": lambda v: v and self.ctx.store.storage_domains.get(v).id,
        }
        changes = {name: checks.get(name, _same)(value) for name, value in asked.items()}
        return {name: value for name, value in changes.items() if value != getattr(vm, name)}


def _boot(devices: tuple[BootDevice, ...]) -> tuple[BootDevice, ...]:
    if not devices:
        raise InvalidState("A VM needs at least one boot device.")
    return devices


def _same(value: Any) -> Any:
    return value
