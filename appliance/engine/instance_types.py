"""Instance types: a VM's size by name. oVirt's five (Tiny, Small, Medium, Large, XLarge) are
there from the start; administrators add their own. A VM made with one takes its memory,
CPU topology and high availability (``sized``)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, replace

from appliance.engine import validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import InstanceType
from appliance.engine.vms import VmCreate
from appliance.errors import InvalidInput, NameInUse


@dataclass(frozen=True)
class InstanceTypeSpec:
    """An instance type to add, or the changes of ``PUT`` (None: unchanged)."""

    name: str | None = None
    description: str | None = None
    memory: int | None = None
    cpu_sockets: int | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    high_availability: bool | None = None
    memory_guaranteed: int | None = None
    memory_max: int | None = None


class InstanceTypes:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[InstanceType]:
        return self.ctx.store.instance_types.all()

    def get(self, type_id: str) -> InstanceType:
        return self.ctx.store.instance_types.get(type_id)

    def find(self, type_id: str) -> InstanceType | None:
        return self.ctx.store.instance_types.find(type_id)

    def find_by_name(self, name: str) -> InstanceType | None:
        return self.ctx.store.instance_types.by_name(name)

    def sized(self, type_id: str, request: VmCreate) -> VmCreate:
        """A new VM's request with the instance type's size (see ``sized``)."""
        return sized(self.get(type_id), request)

    @audited(AuditAction.INSTANCE_TYPE_ADD)
    def add(self, spec: InstanceTypeSpec, *, actor: Actor) -> InstanceType:
        require_superuser(actor, "add instance types")
        if spec.memory is None:
            raise InvalidInput("Cannot add Instance Type. It needs a <memory> (bytes).")
        made = _checked(_edited(InstanceType(id=new_id(), name=spec.name or "",
                                             memory=spec.memory), spec))
        with self.ctx.store.db.transaction():
            self._require_free_name(made)
            self.ctx.store.instance_types.insert(made)
        self.ctx.events.record(EventCode.INSTANCE_TYPE_ADDED, f"Instance type {made.name} was "
                               f"added by {actor.name}.", user=actor.name)
        return made

    @audited(AuditAction.INSTANCE_TYPE_UPDATE)
    def update(self, type_id: str, spec: InstanceTypeSpec, *, actor: Actor) -> InstanceType:
        require_superuser(actor, "edit instance types")
        with self.ctx.locks.hold(type_id):
            changed = _checked(_edited(self.get(type_id), spec))
            self._require_free_name(changed)
            self.ctx.store.instance_types.update(changed)
        self.ctx.events.record(EventCode.INSTANCE_TYPE_UPDATED, f"Instance type {changed.name} "
                               f"was updated by {actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.INSTANCE_TYPE_REMOVE)
    def remove(self, type_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove instance types")
        found = self.get(type_id)
        self.ctx.store.instance_types.delete(found.id)
        self.ctx.events.record(EventCode.INSTANCE_TYPE_REMOVED, f"Instance type {found.name} was "
                               f"removed by {actor.name}.", user=actor.name)

    def _require_free_name(self, instance_type: InstanceType) -> None:
        other = self.ctx.store.instance_types.by_name(instance_type.name)
        if other is not None and other.id != instance_type.id:
            raise NameInUse(f"Cannot add Instance Type. The name '{instance_type.name}' is "
                            "already used.")


def _edited(instance_type: InstanceType, spec: InstanceTypeSpec) -> InstanceType:
    return replace(instance_type, **{k: v for k, v in vars(spec).items() if v is not None})


def _checked(instance_type: InstanceType) -> InstanceType:
    validation.name(instance_type.name, noun="instance type")
    validation.memory(instance_type.memory)
    validation.count(instance_type.cpu_sockets, noun="CPU sockets")
    validation.count(instance_type.cpu_cores, noun="CPU cores")
    validation.count(instance_type.cpu_threads, noun="CPU threads", maximum=8)
    guaranteed = instance_type.memory_guaranteed or instance_type.memory
    maximum = instance_type.memory_max or 4 * instance_type.memory
    if not guaranteed <= instance_type.memory <= maximum:
        raise InvalidInput(f"Instance type {instance_type.name}: the guaranteed memory must not "
                           "exceed the memory, nor the memory its maximum.")
    return instance_type


def sized(instance_type: InstanceType, request: VmCreate) -> VmCreate:
    """``request`` as made with ``instance_type``: oVirt takes the type's memory and its
    policy, CPU topology and high availability over what the VM's own fields say."""
    return replace(request, memory=instance_type.memory,
                   memory_guaranteed=instance_type.memory_guaranteed,
                   memory_max=instance_type.memory_max,
                   cpu_sockets=instance_type.cpu_sockets, cpu_cores=instance_type.cpu_cores,
                   cpu_threads=instance_type.cpu_threads,
                   high_availability=instance_type.high_availability or
                   request.high_availability)
