"""VMs: create from a template, configure disks and NICs, and drive their lifecycle. The
rules it applies live beside it: ``vm_creation``, ``vm_devices``, ``vm_removal`` and
``launch_requests`` (what a host is asked to run)."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import (
    datacenter_quotas,
    mac_pools,
    permissions,
    quotas,
    snapshot_memory,
    validation,
    vm_creation,
    vm_devices,
    vm_removal,
    vm_settings,
)
from appliance.engine.audit import audited, audited_read, filtered_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import (
    Actor,
    can_use_vm,
    require_manage_vm,
    require_permit,
    require_vm,
)
from appliance.engine.context import EngineContext
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import (
    BootDevice,
    DiskInterface,
    DisplayType,
    EventSeverity,
    NicInterface,
    VmStatus,
)
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.launch_requests import launch_request
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
    DiskAttachment,
    Job,
    Nic,
    SerialNumber,
    Vm,
    VmPlacement,
)
from appliance.engine.permits import Permit
from appliance.engine.placement import Placement
from appliance.engine.storage import DiskCreate, Disks, DiskUpdate
from appliance.errors import InvalidState, NameInUse, NotFound, NotSupported
from appliance.vdsm.agent_interface import HostAgent


@dataclass(frozen=True)
class VmCreate:
    name: str
    cluster_id: str
    template_id: str = BLANK_TEMPLATE_ID
    memory: int | None = None  # None: the template's
    cpu_sockets: int | None = None
    cpu_cores: int | None = None
    cpu_threads: int | None = None
    description: str = ""
    os_type: str | None = None
    # Its consoles: ``display`` alone (oVirt's display type resets them to that one), or
    # ``graphics``; neither: the template's.
    display: DisplayType | None = None
    graphics: tuple[DisplayType, ...] | None = None
    boot: tuple[BootDevice, ...] | None = None
    high_availability: bool = False
    clone: bool = False  # copies of the template's disks instead of thin layers
    memory_guaranteed: int = 0  # 0: oVirt's default (all of the memory)
    memory_max: int = 0  # 0: oVirt's default (four times the memory)
    serial_number: SerialNumber | None = None
    placement: VmPlacement = VmPlacement()
    initialization: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class AttachmentUpdate:
    """How a VM uses one of its disks; only the fields given (not None) change."""

    active: bool | None = None
    bootable: bool | None = None
    interface: DiskInterface | None = None


@dataclass(frozen=True)
class NicCreate:
    name: str
    vnic_profile_id: str | None
    interface: NicInterface = NicInterface.VIRTIO
    mac: str | None = None
    linked: bool = True


class Vms:
    def __init__(self, ctx: EngineContext, disks: Disks, placement: Placement) -> None:
        self.ctx = ctx
        self.disks = disks
        self.placement = placement
        # Set by the engine: what must hear that a VM went down (its pool), and what may
        # refuse a removal (a pool keeps its VMs).
        self.on_down: list[Callable[[str], None]] = []
        self.removal_guards: list[Callable[[Vm], None]] = []

    # Queries

    @audited_read(AuditAction.VM_LIST)
    def list(self, *, actor: Actor) -> list[Vm]:
        if actor.superuser:
            return self.ctx.store.vms.all()
        owned = self.ctx.store.vms.where(owner_id=actor.user_id)
        granted = [vm for vm_id in sorted(actor.granted - {v.id for v in owned})
                   if (vm := self.ctx.store.vms.find(vm_id)) is not None]
        return owned + granted

    @audited_read(AuditAction.VM_GET)
    def get(self, vm_id: str, *, actor: Actor) -> Vm:
        vm = self.ctx.store.vms.get(vm_id)
        if not can_use_vm(actor, vm):
            # Someone else's VM does not exist as far as this user can tell.
            raise NotFound(f"There is no VM with id '{vm_id}'.")
        return vm

    @audited_read(AuditAction.VM_FIND)
    def find(self, vm_id: str, *, actor: Actor) -> Vm | None:
        """The VM, or None when there is none this actor may see."""
        vm = self.ctx.store.vms.find(vm_id)
        return vm if vm is not None and can_use_vm(actor, vm) else None

    @audited_read(AuditAction.VM_FIND_BY_NAME)
    def find_by_name(self, name: str, *, actor: Actor) -> Vm | None:
        vm = self.ctx.store.vms.by_name(name)
        return vm if vm is not None and can_use_vm(actor, vm) else None

    @audited_read(AuditAction.VM_LIST_DISK_ATTACHMENTS)
    def list_disk_attachments(self, vm_id: str, *,
                              actor: Actor) -> builtins.list[DiskAttachment]:
        vm = self.get(vm_id, actor=actor)
        return self.ctx.store.attachments.where(vm_id=vm.id)

    @filtered_read(AuditAction.VM_LIST_ATTACHMENTS)
    def list_attachments(self, *, actor: Actor) -> builtins.list[DiskAttachment]:
        """The disk attachments of every VM this actor may see."""
        visible = {vm.id for vm in self.list(actor=actor)}
        return [a for a in self.ctx.store.attachments.all() if a.vm_id in visible]

    @audited_read(AuditAction.VM_GET_DISK_ATTACHMENT)
    def get_disk_attachment(self, vm_id: str, attachment_id: str, *,
                            actor: Actor) -> DiskAttachment:
        return vm_devices.one_of(self.list_disk_attachments(vm_id, actor=actor), attachment_id,
                                 "disk")

    @audited_read(AuditAction.VM_LIST_NICS)
    def list_nics(self, vm_id: str, *, actor: Actor) -> builtins.list[Nic]:
        vm = self.get(vm_id, actor=actor)
        return self.ctx.store.nics.where(vm_id=vm.id)

    @audited_read(AuditAction.VM_GET_NIC)
    def get_nic(self, vm_id: str, nic_id: str, *, actor: Actor) -> Nic:
        return vm_devices.one_of(self.list_nics(vm_id, actor=actor), nic_id, "NIC")

    # Definition

    @audited(AuditAction.VM_CREATE)
    def create(self, request: VmCreate, *, actor: Actor) -> Vm:
        store = self.ctx.store
        validation.name(request.name, noun="VM")
        cluster = store.clusters.get(request.cluster_id)
        require_permit(actor, Permit.CREATE_VM, "make VMs", cluster.id)
        template = store.templates.get(request.template_id)
        vm = vm_creation.new_vm(store, request, template, cluster_id=cluster.id, actor=actor)
        vm_settings.check_memory_policy(vm)
        self.placement.require_memory_fits(cluster.id, vm.memory)
        quotas.require(store, self.ctx.config.quotas, actor, memory=vm.memory, vcpus=vm.vcpus,
                       storage=vm_creation.template_disks_size(store, template.id))
        datacenter_quotas.require(self.ctx, cluster_id=cluster.id, memory=vm.memory,
                                  vcpus=vm.vcpus)
        cloning = request.clone and template.id != BLANK_TEMPLATE_ID
        if cloning:  # the disks are copied by a job; the VM is locked until it ends
            vm = replace(vm, status=VmStatus.IMAGE_LOCKED)
        with self.ctx.store.db.transaction():
            if store.vms.by_name(vm.name) is not None:
                raise NameInUse(f"The name '{vm.name}' is already used by another VM.")
            store.vms.insert(vm)
            vm_creation.copy_template_devices(store, self.disks, vm, thin_disks=not cloning)
        if cloning:
            DiskCopies(self.ctx, self.disks.domains).clone_template_disks(vm, actor=actor)
        self.ctx.events.record(EventCode.VM_CREATED, f"VM {vm.name} was created by {actor.name}.",
                               vm_id=vm.id, user=actor.name)
        return vm

    @audited(AuditAction.VM_REMOVE)
    def remove(self, vm_id: str, *, actor: Actor, keep_disks: bool = False) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_manage_vm(actor, vm, "remove")
            for guard in self.removal_guards:
                guard(vm)
            vm_removal.require_removable(self.ctx.store, vm)
            for attachment in self.ctx.store.attachments.where(vm_id=vm_id):
                if keep_disks:
                    self.ctx.store.attachments.delete(attachment.id)
                else:
                    self.disks.remove(attachment.disk_id, actor=actor)
            vm_removal.delete_rows(self.ctx.store, vm_id)
        self.ctx.events.record(EventCode.VM_REMOVED, f"VM {vm.name} was removed by {actor.name}.",
                               vm_id=vm_id, user=actor.name)

    @audited(AuditAction.VM_ATTACH_DISK)
    def attach_disk(self, vm_id: str, disk_id: str, *, actor: Actor,
                    interface: DiskInterface = DiskInterface.VIRTIO, bootable: bool = False,
                    active: bool = True) -> DiskAttachment:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            vm_devices.require_attachable(actor, vm, active=active)
            vm_devices.require_bus_room(self.ctx.store, vm, interface)
            disk = permissions.get_disk(self.ctx.store, actor, disk_id)
            if self.ctx.store.attachments.where(disk_id=disk_id):
                raise InvalidState(f"Disk '{disk.name}' is already attached to a VM.")
            return self.ctx.store.attachments.insert(DiskAttachment(
                id=disk.id, vm_id=vm.id, disk_id=disk.id, interface=interface,
                bootable=bootable, active=active))

    @audited(AuditAction.VM_ATTACH_NEW_DISK)
    def attach_new_disk(self, vm_id: str, request: DiskCreate, *, actor: Actor,
                        interface: DiskInterface = DiskInterface.VIRTIO,
                        bootable: bool = False, active: bool = True) -> DiskAttachment:
        """A new empty disk, attached: refused before the disk is made when the VM may not
        take it."""
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            vm_devices.require_attachable(actor, vm, active=active)
            vm_devices.require_bus_room(self.ctx.store, vm, interface)
            disk = self.disks.create(request, actor=actor)
            return self.ctx.store.attachments.insert(DiskAttachment(
                id=disk.id, vm_id=vm.id, disk_id=disk.id, interface=interface,
                bootable=bootable, active=active))

    @audited(AuditAction.VM_UPDATE_DISK_ATTACHMENT)
    def update_disk_attachment(self, vm_id: str, attachment_id: str,
                               change: AttachmentUpdate, *, actor: Actor,
                               disk: DiskUpdate | None = None) -> DiskAttachment:
        """Plug or unplug (``active``), make bootable, change the bus of a disk of a VM that
        is down; and rename or grow the disk itself (live while the VM runs). Refused
        before anything changes when the VM may not take it."""
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "change the disks of")
            attachment = vm_devices.one_of(self.ctx.store.attachments.where(vm_id=vm.id),
                                           attachment_id, "disk")
            changes = {name: value for name, value in vars(change).items()
                       if value is not None and value != getattr(attachment, name)}
            if changes and vm.status is not VmStatus.DOWN:
                raise NotSupported(f"VM '{vm.name}' is {vm.status.value}: plugging, "
                                   "unplugging and changing how it uses a disk take a VM "
                                   "that is down for now; stop it first.")
            if disk is not None:
                self.disks.update(attachment.disk_id, disk, actor=actor)
            if not changes:
                return attachment
            return self.ctx.store.attachments.update(replace(attachment, **changes))

    @audited(AuditAction.VM_DETACH_DISK)
    def detach_disk(self, vm_id: str, disk_id: str, *, actor: Actor,
                    remove: bool = False) -> None:
        """Detach a disk from a VM that is down; ``remove`` also deletes the disk."""
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "change the disks of")
            attachment = self.ctx.store.attachments.find(disk_id)
            if attachment is None or attachment.vm_id != vm.id:
                raise NotFound(f"VM '{vm.name}' has no disk with id '{disk_id}'.")
            vm_devices.require_down(vm, before="detaching disks")
            if remove:
                self.disks.remove(disk_id, actor=actor)
            else:
                self.ctx.store.attachments.delete(attachment.id)

    @audited(AuditAction.VM_REMOVE_NIC)
    def remove_nic(self, vm_id: str, nic_id: str, *, actor: Actor) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "change the NICs of")
            nic = self.ctx.store.nics.find(nic_id)
            if nic is None or nic.vm_id != vm.id:
                raise NotFound(f"VM '{vm.name}' has no NIC with id '{nic_id}'.")
            vm_devices.require_down(vm, before="removing NICs")
            self.ctx.store.nics.delete(nic.id)

    @audited(AuditAction.VM_ADD_NIC)
    def add_nic(self, vm_id: str, request: NicCreate, *, actor: Actor) -> Nic:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "change the NICs of")
            validation.name(request.name, noun="NIC")
            if request.vnic_profile_id is not None:
                self.ctx.store.vnic_profiles.get(request.vnic_profile_id)
            if any(n.name == request.name for n in self.ctx.store.nics.where(vm_id=vm_id)):
                raise NameInUse(f"VM '{vm.name}' already has a NIC named '{request.name}'.")
            mac = mac_pools.allocate(self.ctx.store, vm.cluster_id, request.mac)
            nic = Nic(id=new_id(), vm_id=vm.id, name=request.name, mac=mac,
                      vnic_profile_id=request.vnic_profile_id, interface=request.interface,
                      linked=request.linked)
            return self.ctx.store.nics.insert(nic)

    # Lifecycle

    @audited(AuditAction.VM_START_OR_RESUME)
    def start_or_resume(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        """oVirt's start verb: a paused VM is resumed, one that is down is started, one that
        is suspended is restored from its saved state."""
        with self.ctx.locks.hold(vm_id):
            if self.get(vm_id, actor=actor).status is VmStatus.PAUSED:
                return self.resume(vm_id, actor=actor, correlation_id=correlation_id)
            return self.start(vm_id, actor=actor, correlation_id=correlation_id)

    @audited(AuditAction.VM_START)
    def start(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "start")
            if vm.status not in (VmStatus.DOWN, VmStatus.SUSPENDED):
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; only a VM that is "
                                   "down or suspended can be started.")
            before = vm.status
            with self.placement.deciding():  # the next start sees this VM on its host
                host_id = self.placement.pick_host(vm)
                request = launch_request(self.ctx, vm, self.ctx.store.hosts.get(host_id))
                launching = (VmStatus.RESTORING_STATE if before is VmStatus.SUSPENDED
                             else VmStatus.WAIT_FOR_LAUNCH)
                vm = self._set(vm, status=launching, host_id=host_id)
            try:
                self.ctx.hosts.agent(host_id).launch(request)
            except Exception as exc:
                self._set(vm, status=before, host_id=None)  # a suspended VM keeps its state
                self.ctx.events.record(
                    EventCode.VM_START_FAILED, f"VM {vm.name} failed to start: {exc}",
                    severity=EventSeverity.ERROR, vm_id=vm.id,
                    user=actor.name, correlation_id=correlation_id)
                raise
            current = self.ctx.store.vms.get(vm_id)
            if before is VmStatus.SUSPENDED:
                current = snapshot_memory.discard_saved_state(self.ctx, current)
            if current.status in (VmStatus.WAIT_FOR_LAUNCH, VmStatus.RESTORING_STATE):
                self._set(current, status=VmStatus.UP, start_time=time.time())
        host = self.ctx.store.hosts.get(host_id)
        self.ctx.events.record(EventCode.VM_STARTED, f"VM {vm.name} was started by {actor.name} "
                               f"on host {host.name}.", vm_id=vm.id, host_id=host_id,
                               user=actor.name, correlation_id=correlation_id)
        return self.ctx.jobs.record(f"Launching VM {vm.name}", owner=actor.name,
                                    correlation_id=correlation_id, vm_id=vm.id)

    @audited(AuditAction.VM_SHUTDOWN)
    def shutdown(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        """Ask the guest to power off (ACPI); the VM turns Down when it has."""
        return self._running_action(vm_id, actor, correlation_id, verb="shut down",
                                    event=EventCode.VM_SHUT_DOWN,
                                    status=VmStatus.POWERING_DOWN, guest_acts=True,
                                    call=lambda agent, vid: agent.shutdown(vid))

    @audited(AuditAction.VM_STOP)
    def stop(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        """Power off at once, as pulling the plug; a suspended VM's saved state is thrown
        away."""
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            if vm.status is VmStatus.SUSPENDED:
                require_vm(actor, vm, "power off")
                self._set(snapshot_memory.discard_saved_state(self.ctx, vm),
                          status=VmStatus.DOWN, stop_reason="powered off")
                self.ctx.events.record(EventCode.VM_POWER_OFF, f"VM {vm.name}: its saved state was "
                                       f"discarded by {actor.name}.", vm_id=vm.id,
                                       user=actor.name, correlation_id=correlation_id)
                return self.ctx.jobs.record(f"Power off VM {vm.name}", owner=actor.name,
                                            correlation_id=correlation_id, vm_id=vm.id)

        def power_off(agent: HostAgent, vid: str) -> None:
            agent.power_off(vid)
            # Down under the same hold as the power off: marked later, it could land on the
            # VM started again meanwhile (its stop event handled, then a start), leaving it
            # Down in the store while its domain runs.
            self.mark_down(vid, reason="powered off")

        return self._running_action(vm_id, actor, correlation_id, verb="power off",
                                    event=EventCode.VM_POWER_OFF,
                                    status=VmStatus.POWERING_DOWN, call=power_off)

    @audited(AuditAction.VM_REBOOT)
    def reboot(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        job = self._running_action(vm_id, actor, correlation_id, verb="reboot",
                                   event=EventCode.VM_REBOOT,
                                   status=VmStatus.REBOOT_IN_PROGRESS, guest_acts=True,
                                   call=lambda agent, vid: agent.reboot(vid))
        # A guest reboot keeps the QEMU process: libvirt sends no start event to end it.
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.get(vm_id)
            if vm.status is VmStatus.REBOOT_IN_PROGRESS:
                self._set(vm, status=VmStatus.UP)
        return job

    @audited(AuditAction.VM_RESET)
    def reset(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        return self._running_action(vm_id, actor, correlation_id, verb="reset",
                                    event=EventCode.VM_RESET, status=None,
                                    call=lambda agent, vid: agent.reset(vid))

    @audited(AuditAction.VM_PAUSE)
    def pause(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        return self._running_action(vm_id, actor, correlation_id, verb="pause",
                                    event=EventCode.VM_PAUSE,
                                    status=VmStatus.PAUSED,
                                    call=lambda agent, vid: agent.pause(vid))

    @audited(AuditAction.VM_RESUME)
    def resume(self, vm_id: str, *, actor: Actor, correlation_id: str = "") -> Job:
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, "resume")
            if vm.status is not VmStatus.PAUSED:
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}, not paused.")
            assert vm.host_id is not None
            self.ctx.hosts.agent(vm.host_id).resume(vm.id)
            self._set(vm, status=VmStatus.UP)
        self.ctx.events.record(EventCode.VM_RESUMED, f"VM {vm.name} was resumed by {actor.name}.",
                               vm_id=vm.id, user=actor.name, correlation_id=correlation_id)
        return self.ctx.jobs.record(f"Resuming VM {vm.name}", owner=actor.name,
                                    correlation_id=correlation_id, vm_id=vm.id)

    # What the hosts report

    def mark_down(self, vm_id: str, *, reason: str) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.find(vm_id)
            if vm is None or vm.status in (VmStatus.DOWN, VmStatus.SUSPENDED):
                return  # a suspended VM has no QEMU to lose: its state is on disk
            self._set(vm, status=VmStatus.DOWN, host_id=None, stop_time=time.time(),
                      stop_reason=reason)
        self.ctx.events.record(EventCode.VM_DOWN, f"VM {vm.name} is down: {reason}.", vm_id=vm_id,
                               host_id=vm.host_id)
        for listener in self.on_down:
            listener(vm_id)

    def mark_status(self, vm_id: str, status: VmStatus, *, host_id: str) -> None:
        with self.ctx.locks.hold(vm_id):
            vm = self.ctx.store.vms.find(vm_id)
            if vm is None or (vm.status is status and vm.host_id == host_id):
                return
            changes: dict[str, object] = {"status": status, "host_id": host_id}
            if vm.status is VmStatus.DOWN:
                changes["start_time"] = time.time()
            self._set(vm, **changes)

    # Helpers

    def _running_action(self, vm_id: str, actor: Actor, correlation_id: str, *, verb: str,
                        event: EventCode, status: VmStatus | None,
                        call: Callable[[HostAgent, str], None], guest_acts: bool = False) -> Job:
        """``guest_acts``: the guest itself must do it (ACPI), so a paused one cannot: libvirt
        refuses a shutdown, and a reboot would leave it paused while the store said Up."""
        with self.ctx.locks.hold(vm_id):
            vm = self.get(vm_id, actor=actor)
            require_vm(actor, vm, verb)
            host_id = vm.host_id
            if not vm.status.is_running or host_id is None or vm.status in (
                    VmStatus.SAVING_STATE, VmStatus.RESTORING_STATE):
                raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; it must be running "
                                   f"to {verb} it.")
            if guest_acts and vm.status is VmStatus.PAUSED:
                raise InvalidState(f"VM '{vm.name}' is paused; run it again (start) to {verb} "
                                   "it, or power it off.")
            previous = vm.status
            if status is not None:
                vm = self._set(vm, status=status)
            try:
                call(self.ctx.hosts.agent(host_id), vm.id)
            except Exception:
                self._set(vm, status=previous)
                raise
        self.ctx.events.record(event,
                               f"VM {vm.name}: {verb} requested by {actor.name}.",
                               vm_id=vm.id, user=actor.name, correlation_id=correlation_id)
        return self.ctx.jobs.record(f"{verb.capitalize()} VM {vm.name}", owner=actor.name,
                                    correlation_id=correlation_id, vm_id=vm.id)

    def _set(self, vm: Vm, **changes: object) -> Vm:
        return self.ctx.store.vms.update(replace(vm, **changes))  # type: ignore[arg-type]
