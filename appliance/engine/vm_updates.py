"""Editing a VM: its name, description, memory, CPUs, boot order and high availability.

The description and high availability change at any time; what QEMU was started with (name,
memory, CPUs, boot order) changes only while the VM is down, so the next start uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from appliance.engine import quotas, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import BootDevice, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Vm
from appliance.engine.placement import Placement
from appliance.engine.vms import Vms
from appliance.errors import InvalidState, NameInUse


@dataclass(frozen=True)
class VmUpdate:
    """Only the fields given (not None) change."""

    name: str | None = None
    description: str | None = None
    memory: int | None = None
    cpu_sockets: int | None = None
    boot: tuple[BootDevice, ...] | None = None
    high_availability: bool | None = None


class VmUpdates:
    def __init__(self, ctx: EngineContext, vms: Vms, placement: Placement) -> None:
        self.ctx = ctx
        self.vms = vms
        self.placement = placement

    @audited(AuditAction.VM_UPDATE_UPDATE)
    def update(self, vm_id: str, request: VmUpdate, *, actor: Actor) -> Vm:
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "edit")
            changes = self._hardware_changes(vm, request)
            if changes and vm.status is not VmStatus.DOWN:
                fields = ", ".join(sorted(changes))
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}: its {fields} can "
                                   "change only while it is down.")
            if request.description is not None and request.description != vm.description:
                changes["description"] = request.description
            if request.high_availability is not None and \
                    request.high_availability != vm.high_availability:
                changes["high_availability"] = request.high_availability
            if vm.owner_id == actor.user_id:  # the owner's quota carries the VM
                changed = replace(vm, **changes)
                quotas.require(self.ctx.store, self.ctx.config.quotas, actor,
                               memory=changed.memory - vm.memory,
                               vcpus=changed.vcpus - vm.vcpus)
            if not changes:
                return vm
            with self.ctx.store.db.transaction():
                if "name" in changes and self.ctx.store.vms.by_name(changes["name"]):
                    raise NameInUse(f"The name '{changes['name']}' is already used by "
                                    "another VM.")
                updated = self.ctx.store.vms.update(replace(vm, **changes))
        self.ctx.events.record(
            EventCode.VM_UPDATED, f"VM {updated.name} was edited by {actor.name} "
            f"({', '.join(sorted(changes))}).", vm_id=vm.id, user=actor.name)
        return updated

    def _hardware_changes(self, vm: Vm, request: VmUpdate) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if request.name is not None and request.name != vm.name:
            changes["name"] = validation.name(request.name, noun="VM")
        if request.memory is not None and request.memory != vm.memory:
            changes["memory"] = validation.memory(request.memory)
            self.placement.require_memory_fits(vm.cluster_id, request.memory)
        if request.cpu_sockets is not None and request.cpu_sockets != vm.cpu_sockets:
            changes["cpu_sockets"] = validation.count(request.cpu_sockets, noun="CPU sockets")
        if request.boot is not None and request.boot != vm.boot:
            if not request.boot:
                raise InvalidState("A VM needs at least one boot device.")
            changes["boot"] = request.boot
        return changes
