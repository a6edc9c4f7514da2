"""VM pools (oVirt's ``/vmpools``): thin VMs from one template, named ``<pool>-N``, handed
out to users by ``allocatevm``. The engine keeps ``prestarted_vms`` of the free ones running;
a user may hold at most ``max_user_vms`` of a pool's VMs. In an automatic pool a VM that
goes down returns to the pool and loses its changes (a new thin layer over the template);
in a manual one the user keeps it until it is detached. Sizes only grow, as on oVirt: a VM
leaves a pool by being detached (``vms/{id}/detach``)."""

from __future__ import annotations

import builtins
import logging
import re
import time
from dataclasses import dataclass, replace

from appliance.engine import validation
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import SYSTEM, Actor, require_permit
from appliance.engine.context import EngineContext
from appliance.engine.enums import PoolType, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.grants import ObjectType
from appliance.engine.ids import new_id
from appliance.engine.jobs import JobContext
from appliance.engine.model import BLANK_TEMPLATE_ID, Job, Vm
from appliance.engine.permits import Permit
from appliance.engine.roles import RoleName
from appliance.engine.storage import Disks
from appliance.engine.store.tables import Table
from appliance.engine.users import Users
from appliance.engine.vms import VmCreate, Vms
from appliance.errors import Conflict, InvalidInput, InvalidState, NotFound, VirtStickError

log = logging.getLogger(__name__)
MAX_SIZE = 1000  # VMs per pool: each is a thin layer, but still a VM to list and schedule


@dataclass(frozen=True)
class PoolMember:
    vm_id: str
    user_id: str = ""  # who took it from the pool; "" while it is free


@dataclass(frozen=True)
class VmPool:
    id: str
    name: str
    cluster_id: str
    template_id: str
    type: PoolType = PoolType.AUTOMATIC
    description: str = ""
    comment: str = ""
    prestarted_vms: int = 0
    max_user_vms: int = 1
    members: tuple[PoolMember, ...] = ()
    removing: bool = False
    created: float = 0.0

    @property
    def size(self) -> int:
        return len(self.members)

    def member(self, vm_id: str) -> PoolMember | None:
        return next((m for m in self.members if m.vm_id == vm_id), None)


@dataclass(frozen=True)
class PoolChange:
    """A new pool's settings, or changes to one (None: as it is)."""

    size: int | None = None
    prestarted_vms: int | None = None
    max_user_vms: int | None = None
    description: str | None = None
    comment: str | None = None
    name: str | None = None
    type: PoolType | None = None


class VmPools:
    def __init__(self, ctx: EngineContext, *, vms: Vms, disks: Disks, users: Users) -> None:
        self.ctx = ctx
        self.vms = vms
        self.disks = disks
        self.users = users
        self.table: Table[VmPool] = Table(ctx.store.db, name="vm_pools", cls=VmPool,
                                          noun="VM pool", columns=("name",))
        vms.on_down.append(self._vm_down)
        vms.removal_guards.append(self._keep_members)

    # Reads

    @audited_read(AuditAction.VM_POOL_LIST)
    def list(self, *, actor: Actor) -> builtins.list[VmPool]:
        """The pools the actor may take VMs from (a SuperUser: all)."""
        return [p for p in self.table.all() if _may_use(actor, p)]

    @audited_read(AuditAction.VM_POOL_GET)
    def get(self, pool_id: str, *, actor: Actor) -> VmPool:
        pool = self.table.find(pool_id)
        if pool is None or not _may_use(actor, pool):
            raise NotFound(f"There is no VM pool with id '{pool_id[:60]}'.")
        return pool

    def find(self, pool_id: str) -> VmPool | None:
        return self.table.find(pool_id)

    def membership(self) -> dict[str, VmPool]:
        """Each pool VM's pool, by VM id."""
        return {m.vm_id: pool for pool in self.table.all() for m in pool.members}

    # Changes

    @audited(AuditAction.VM_POOL_ADD)
    def add(self, name: str, *, cluster_id: str, template_id: str, change: PoolChange,
            actor: Actor) -> VmPool:
        """The pool and its VMs (thin layers over the template), some started."""
        cluster = self.ctx.store.clusters.get(cluster_id)
        require_permit(actor, Permit.CREATE_VM_POOL, "make VM pools", cluster.id)
        template = self.ctx.store.templates.get(template_id)
        if template.id == BLANK_TEMPLATE_ID:
            raise Conflict("Cannot add VM-Pool: a VM-Pool must be based on a non-blank "
                           "template.")
        validation.name(name.replace("?", "0"), noun="VM pool")
        size = change.size if change.size is not None else 1
        pool = VmPool(id=new_id(), name=name, cluster_id=cluster.id, template_id=template.id,
                      type=change.type or PoolType.AUTOMATIC,
                      description=change.description or "", comment=change.comment or "",
                      prestarted_vms=_count(change.prestarted_vms, 0, "prestarted VMs"),
                      max_user_vms=_max_user_vms(change.max_user_vms, 1), created=time.time())
        if size < 1:
            raise InvalidInput("Cannot create Pool with 0 VMs.")
        _check_prestarted(pool.prestarted_vms, size)
        with self.ctx.store.db.transaction():
            if self.table.by_name(name) is not None:
                raise Conflict(f"Cannot add VM-Pool. The VM-Pool name {name} is already in "
                               "use, please choose a unique name and try again.")
            self.table.insert(pool)
        pool = self._grow(pool, size)
        self.ctx.events.record(EventCode.VM_POOL_ADDED, f"VM pool {pool.name} of {pool.size} "
                               f"VMs was added by {actor.name}.", user=actor.name)
        self._prestart(pool.id)
        return self.table.get(pool.id)

    @audited(AuditAction.VM_POOL_UPDATE)
    def update(self, pool_id: str, change: PoolChange, *, actor: Actor) -> VmPool:
        """Grow the pool, change how many VMs run ready and a user may hold."""
        pool = self._changing(pool_id, actor, Permit.EDIT_VM_POOL_CONFIGURATION)
        if change.name is not None and change.name != pool.name:
            raise InvalidInput("Cannot change VM-Pool name.")
        if change.type is not None and change.type is not pool.type:
            raise InvalidInput("Cannot change VM-Pool type.")
        size = pool.size if change.size is None else change.size
        if size < pool.size:
            raise InvalidInput(f"Cannot decrease VMs from VM-Pool {pool.name} ({pool.size} "
                               "VMs): detach VMs from it instead (vms/{id}/detach).")
        if size > MAX_SIZE:
            raise InvalidInput(f"A VM pool holds at most {MAX_SIZE} VMs.")
        prestarted = _count(change.prestarted_vms, pool.prestarted_vms, "prestarted VMs")
        _check_prestarted(prestarted, size)
        pool = self.table.update(replace(
            pool, prestarted_vms=prestarted,
            max_user_vms=_max_user_vms(change.max_user_vms, pool.max_user_vms),
            description=pool.description if change.description is None else change.description,
            comment=pool.comment if change.comment is None else change.comment))
        pool = self._grow(pool, size)
        self.ctx.events.record(EventCode.VM_POOL_UPDATED, f"VM pool {pool.name} was changed by "
                               f"{actor.name}; it has {pool.size} VMs.", user=actor.name)
        self._prestart(pool.id)
        return self.table.get(pool.id)

    @audited(AuditAction.VM_POOL_REMOVE)
    def remove(self, pool_id: str, *, actor: Actor) -> Job:
        """As oVirt: the pool stops prestarting, its VMs are stopped and removed, then it goes
        (a job; the pool is listed until it is gone)."""
        pool = self._changing(pool_id, actor, Permit.DELETE_VM_POOL)
        pool = self.table.update(replace(pool, removing=True, prestarted_vms=0))
        return self._removal(pool, actor.name)

    @audited(AuditAction.VM_POOL_ALLOCATE)
    def allocate(self, pool_id: str, *, actor: Actor) -> Vm:
        """A free VM of the pool for the actor (UserRole on it), started: a prestarted one if
        there is one running."""
        pool = self.get(pool_id, actor=actor)
        require_permit(actor, Permit.VM_POOL_BASIC_OPERATIONS, "take VMs from pools", pool.id)
        with self.ctx.locks.hold(pool.id):
            pool = self.table.get(pool.id)
            if pool.removing:
                raise InvalidState(f"Cannot allocate VM from VM-Pool. VM Pool {pool.name} is "
                                   "being removed.")
            held = sum(1 for m in pool.members if m.user_id == actor.user_id)
            if held >= pool.max_user_vms:
                raise Conflict("User is already attached to maximum number of VMs from this "
                               f"VM-Pool ({pool.max_user_vms}).")
            member = self._free_member(pool)
            self.table.update(replace(pool, members=tuple(
                replace(m, user_id=actor.user_id) if m.vm_id == member.vm_id else m
                for m in pool.members)))
        self.users.grant(role_id=self.users.roles.named(RoleName.USER_ROLE).id,
                         object_type=ObjectType.VM, object_id=member.vm_id,
                         user_id=actor.user_id, actor=SYSTEM)
        vm = self.ctx.store.vms.get(member.vm_id)
        if vm.status is VmStatus.DOWN:
            self.vms.start(vm.id, actor=SYSTEM)
        self.ctx.events.record(EventCode.VM_POOL_ALLOCATED, f"VM {vm.name} of pool {pool.name} "
                               f"was given to {actor.name}.", vm_id=vm.id, user=actor.name)
        self._prestart(pool.id)
        return self.ctx.store.vms.get(vm.id)

    @audited(AuditAction.VM_POOL_DETACH_VM)
    def detach(self, vm_id: str, *, actor: Actor) -> Vm:
        """The VM leaves its pool (it must be down) and is a VM of its own."""
        vm = self.vms.get(vm_id, actor=actor)
        pool = self.membership().get(vm.id)
        if pool is None:
            raise InvalidState(f"Cannot detach VM {vm.name} from pool: it is in none.")
        self._changing(pool.id, actor, Permit.EDIT_VM_POOL_CONFIGURATION)
        if vm.status is not VmStatus.DOWN:
            raise InvalidState(f"Cannot detach VM {vm.name} from VM-Pool {pool.name}: it is "
                               f"{vm.status.value}.")
        with self.ctx.locks.hold(pool.id):
            current = self.table.get(pool.id)
            self.table.update(replace(current, members=tuple(
                m for m in current.members if m.vm_id != vm.id)))
        self.ctx.events.record(EventCode.VM_POOL_DETACHED, f"VM {vm.name} left pool "
                               f"{pool.name} ({actor.name}).", vm_id=vm.id, user=actor.name)
        return vm

    def resume(self) -> None:
        """At the engine's start: removals a restart cut short go on, and each other pool's
        prestarted VMs run again."""
        for pool in self.table.all():
            if pool.removing:
                self._removal(pool, SYSTEM.name)
            else:
                self._prestart(pool.id)

    # The pool's own work

    def _removal(self, pool: VmPool, who: str) -> Job:
        def work(job: JobContext) -> None:
            for number, member in enumerate(pool.members, start=1):
                self._remove_vm(member.vm_id)
                job.progress(100 * number // max(pool.size, 1))
            self.table.delete(pool.id)
            self.ctx.events.record(EventCode.VM_POOL_REMOVED, f"VM pool {pool.name} was "
                                   f"removed by {who}.", user=who)

        return self.ctx.jobs.run(f"Removing VM pool {pool.name}", work, owner=who)

    def _grow(self, pool: VmPool, size: int) -> VmPool:
        """Thin VMs up to ``size``, named ``<pool>-N`` (or by the name's ``???`` mask)."""
        taken = {v.name for v in self.ctx.store.vms.all()}
        number = 0
        while pool.size < size:
            number += 1
            name = _vm_name(pool.name, number)
            if name in taken:
                continue
            vm = self.vms.create(VmCreate(name=name, cluster_id=pool.cluster_id,
                                          template_id=pool.template_id,
                                          description=f"VM of pool {pool.name}"), actor=SYSTEM)
            with self.ctx.locks.hold(pool.id):
                current = self.table.get(pool.id)
                pool = self.table.update(replace(current, members=(
                    *current.members, PoolMember(vm.id))))
        return pool

    def _prestart(self, pool_id: str) -> None:
        """Start free VMs until ``prestarted_vms`` of them run (the rest wait, down)."""
        pool = self.table.find(pool_id)
        if pool is None or pool.removing:
            return
        free = [(m, self.ctx.store.vms.find(m.vm_id)) for m in pool.members if not m.user_id]
        running = sum(1 for _, vm in free if vm is not None and vm.status.is_running)
        for _member, vm in free:
            if running >= pool.prestarted_vms:
                return
            if vm is None or vm.status is not VmStatus.DOWN:
                continue
            try:
                self.vms.start(vm.id, actor=SYSTEM)
            except VirtStickError as exc:  # no room now: the pool tries again on its next change
                log.warning("pool %s could not prestart %s: %s", pool.name, vm.name, exc.detail)
                return
            running += 1

    def _free_member(self, pool: VmPool) -> PoolMember:
        free = [m for m in pool.members if not m.user_id]
        ready = [m for m in free if (vm := self.ctx.store.vms.find(m.vm_id)) is not None
                 and vm.status is VmStatus.UP]
        down = [m for m in free if (vm := self.ctx.store.vms.find(m.vm_id)) is not None
                and vm.status is VmStatus.DOWN]
        if not (ready or down):
            raise Conflict(f"Cannot allocate VM from VM-Pool {pool.name}. There are no "
                           "available VMs in the VM-Pool.")
        return (ready or down)[0]

    def _vm_down(self, vm_id: str) -> None:
        """A VM of an automatic pool that went down comes back clean and free."""
        pool = self.membership().get(vm_id)
        if pool is None or pool.removing or pool.type is not PoolType.AUTOMATIC:
            return

        def work(_job: JobContext) -> None:
            self._return(pool.id, vm_id)
            self._prestart(pool.id)

        self.ctx.jobs.run(f"Returning a VM to pool {pool.name}", work, owner=SYSTEM.name,
                          vm_id=vm_id)

    def _return(self, pool_id: str, vm_id: str) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.find(vm_id)
            if vm is None or vm.status is not VmStatus.DOWN:
                return  # started again meanwhile, or gone
            self._renew_disks(vm)
        with self.ctx.locks.hold(pool_id):
            pool = self.table.find(pool_id)
            member = pool.member(vm_id) if pool else None
            if pool is None or member is None:
                return
            self.table.update(replace(pool, members=tuple(
                replace(m, user_id="") if m.vm_id == vm_id else m for m in pool.members)))
        if member.user_id:
            held = self.users.grants.table.where(object_id=vm_id, user_id=member.user_id)
            self.users.grants.delete_all(held)

    def _renew_disks(self, vm: Vm) -> None:
        """A new thin layer over each template disk in place of the VM's disks, so what the
        user did is gone (as oVirt's stateless pool VMs)."""
        store = self.ctx.store
        for attachment in store.attachments.where(vm_id=vm.id):
            self.disks.remove(attachment.disk_id, actor=SYSTEM)
        with store.db.transaction():
            for snapshot in store.snapshots.where(vm_id=vm.id):
                store.snapshots.delete(snapshot.id)
        for attachment in store.attachments.where(vm_id=vm.template_id):
            base = store.disks.get(attachment.disk_id)
            disk = self.disks.create_layer_over(base, name=f"{vm.name}_{base.name}")
            store.attachments.insert(replace(attachment, id=disk.id, vm_id=vm.id,
                                             disk_id=disk.id))

    def _remove_vm(self, vm_id: str) -> None:
        vm = self.ctx.store.vms.find(vm_id)
        if vm is None:
            return
        if vm.status is not VmStatus.DOWN:
            try:
                self.vms.stop(vm.id, actor=SYSTEM)
            except VirtStickError as exc:
                log.warning("stopping %s of its removed pool: %s", vm.name, exc.detail)
        self.vms.remove(vm.id, actor=SYSTEM)

    def _keep_members(self, vm: Vm) -> None:
        pool = self.membership().get(vm.id)
        if pool is not None and not pool.removing:
            raise InvalidState(f"Cannot remove VM {vm.name}. VM is attached to a VM Pool "
                               f"({pool.name}): detach it first.")

    def _changing(self, pool_id: str, actor: Actor, permit: Permit) -> VmPool:
        pool = self.table.find(pool_id)
        if pool is None or not _may_use(actor, pool):
            raise NotFound(f"There is no VM pool with id '{pool_id[:60]}'.")
        require_permit(actor, permit, "change VM pools", pool.id, pool.cluster_id)
        if pool.removing:
            raise InvalidState(f"Cannot change VM Pool {pool.name}: it is being removed.")
        return pool


def _may_use(actor: Actor, pool: VmPool) -> bool:
    return actor.may(Permit.VM_POOL_BASIC_OPERATIONS, pool.id) or actor.may(
        Permit.EDIT_VM_POOL_CONFIGURATION, pool.id, pool.cluster_id)


def _vm_name(pool_name: str, number: int) -> str:
    mask = re.search(r"\?+", pool_name)
    if mask is None:
        return f"{pool_name}-{number}"
    digits = str(number).zfill(len(mask.group()))
    return pool_name[:mask.start()] + digits + pool_name[mask.end():]


def _count(value: int | None, default: int, noun: str) -> int:
    if value is None:
        return default
    if not 0 <= value <= MAX_SIZE:
        raise InvalidInput(f"The number of {noun} must be between 0 and {MAX_SIZE}.")
    return value


def _max_user_vms(value: int | None, default: int) -> int:
    if value is None:
        return default
    if not 1 <= value <= 32767:
        raise InvalidInput("Number of max assigned VMs per user must be between 1 and 32,767.")
    return value


def _check_prestarted(prestarted: int, size: int) -> None:
    if prestarted > size:
        raise Conflict(f"Number of Prestarted VMs ({prestarted}) cannot exceed the number of "
                       f"VMs in the Pool ({size}).")
