"""VM backups as oVirt 4.4's incremental backup runs them (``POST /vms/{id}/backups``).

Starting a backup of a running VM locks its disks and asks the VM's host to serve each one,
frozen at that moment, for download (libvirt's pull mode): phases initializing, starting,
then ready. Each backup of qcow2 disks also makes a checkpoint, so the next one can start
from it and serve only what changed since (incremental, disk by disk where the disk's bitmap
allows). ``finalize`` ends it (finalizing, then succeeded) and unlocks the disks; any step
that fails leaves the backup failed and the disks unlocked. Downloads go through image
transfers that name the backup.
"""

from __future__ import annotations

import builtins
import logging
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, replace

from appliance.engine import chains
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.backups.model import (
    BackupPhase,
    CheckpointState,
    DiskBackupMode,
    VmBackup,
    VmCheckpoint,
)
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskFormat, DiskStatus, EventSeverity, SnapshotStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk, Vm
from appliance.engine.vms import Vms
from appliance.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NameInUse,
    NotFound,
    VirtStickError,
)
from appliance.vdsm.backup_interface import BackupDisk, BackupStart, CheckpointRecord

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 1024  # oVirt's limit
# How long an ended backup stays listed, as oVirt's Succeeded/FailedBackupCleanupTime.
KEEP_SUCCEEDED = 15 * 60.0
KEEP_FAILED = 30 * 60.0


class BackupRunning(Conflict):
    code = "vm-during-backup"


@dataclass(frozen=True)
class BackupRequest:
    disk_ids: tuple[str, ...]
    id: str = ""  # a client may choose the backup's id
    from_checkpoint_id: str = ""  # "": a full backup
    description: str = ""


class VmBackups:
    def __init__(self, ctx: EngineContext, vms: Vms) -> None:
        self.ctx = ctx
        self.vms = vms

    # Reads

    @audited_read(AuditAction.BACKUP_LIST)
    def list(self, vm_id: str, *, actor: Actor) -> builtins.list[VmBackup]:
        vm = self.vms.get(vm_id, actor=actor)
        self._forget_ended()
        return sorted(self.ctx.store.backups.where(vm_id=vm.id), key=lambda b: b.created)

    @audited_read(AuditAction.BACKUP_GET)
    def get(self, vm_id: str, backup_id: str, *, actor: Actor) -> VmBackup:
        vm = self.vms.get(vm_id, actor=actor)
        found = self.ctx.store.backups.find(backup_id)
        if found is None or found.vm_id != vm.id:
            raise NotFound(f"VM '{vm.name}' has no backup with id '{backup_id[:60]}'.")
        return found

    @audited_read(AuditAction.BACKUP_DISKS)
    def disks(self, vm_id: str, backup_id: str, *,
              actor: Actor) -> builtins.list[tuple[Disk, DiskBackupMode]]:
        """The backup's disks, each with how it is served (full or incremental)."""
        backup = self.get(vm_id, backup_id, actor=actor)
        found = [(d, backup.mode(d.id)) for i in backup.disk_ids
                 if (d := self.ctx.store.disks.find(i)) is not None]
        return found

    # Actions

    @audited(AuditAction.BACKUP_START)
    def start(self, vm_id: str, request: BackupRequest, *, actor: Actor,
              correlation_id: str = "") -> VmBackup:
        """Lock the disks and start serving them from the VM's host, in a job; poll the
        backup until its phase is ready."""
        store = self.ctx.store
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "back up")
            disks = self._check_start(vm, request)
            since = self._from_checkpoint(vm, request.from_checkpoint_id)
            now = time.time()
            backup = VmBackup(
                id=self._new_id(request.id), vm_id=vm.id, phase=BackupPhase.INITIALIZING,
                host_id=vm.host_id or "", disk_ids=tuple(d.id for d in disks),
                owner=actor.name, owner_id=actor.user_id,
                from_checkpoint_id=since.id if since else "",
                description=request.description, created=now, modified=now)
            with ExitStack() as held, store.db.transaction():
                for disk in disks:
                    held.enter_context(self.ctx.locks.hold(disk.id))
                    store.disks.update(replace(store.disks.get(disk.id),
                                               status=DiskStatus.LOCKED))
                store.backups.insert(backup)
        self.ctx.events.record(EventCode.VM_BACKUP_STARTED,
                               f"Backup {backup.id} for VM {vm.name} was initiated by "
                               f"{actor.name}.", vm_id=vm.id, user=actor.name,
                               correlation_id=correlation_id)
        self.ctx.jobs.run(f"Backing up VM {vm.name}",
                          lambda _job: self._begin(backup, disks, since),
                          owner=actor.name, vm_id=vm.id, correlation_id=correlation_id,
                          on_failure=lambda: self._failed(backup.id, "the host could not "
                                                          "start it"))
        return backup

    @audited(AuditAction.BACKUP_FINALIZE)
    def finalize(self, vm_id: str, backup_id: str, *, actor: Actor) -> VmBackup:
        """End the backup: the host stops serving the disks and they unlock (in a job; poll
        until succeeded). Finalizing an ended backup changes nothing."""
        with self.ctx.locks.hold(vm_id):
            backup = self.get(vm_id, backup_id, actor=actor)
            vm = self.ctx.store.vms.get(backup.vm_id)
            require_vm(actor, vm, "back up")
            if backup.phase.finished or backup.phase is BackupPhase.FINALIZING:
                return backup
            if backup.phase is not BackupPhase.READY:
                raise InvalidState(f"Backup {backup.id} is {backup.phase.value}; it can be "
                                   "finalized once it is ready.")
            if any(not t.phase.finished and t.backup_id == backup.id
                   for t in self.ctx.store.image_transfers.all()):
                raise InvalidState(f"Backup {backup.id} has image transfers in progress; "
                                   "finalize or cancel them first.")
            backup = self._update(backup, phase=BackupPhase.FINALIZING)
        self.ctx.jobs.run(f"Finalizing backup of VM {vm.name}", lambda _job: self._end(backup),
                          owner=actor.name, vm_id=vm.id,
                          on_failure=lambda: self._failed(backup.id, "it could not be ended"))
        return backup

    def abandon_all(self, reason: str) -> None:
        """Backups left unfinished by a previous process: their host stops serving them, the
        disks unlock, and they are failed (no client can go on with them)."""
        for backup in self.ctx.store.backups.all():
            if not backup.phase.finished:
                self._failed(backup.id, reason)

    # Steps (in jobs)

    def _begin(self, backup: VmBackup, disks: builtins.list[Disk],
               since: VmCheckpoint | None) -> None:
        store = self.ctx.store
        backup = self._update(backup, phase=BackupPhase.STARTING)
        qcow2 = tuple(d.id for d in disks if d.format is DiskFormat.COW)
        checkpoint_id = new_id() if qcow2 else ""
        started = self.ctx.hosts.agent(backup.host_id).start_backup(BackupStart(
            backup_id=backup.id, vm_id=backup.vm_id,
            disks=tuple(BackupDisk(image_id=d.id, volume=chains.volume(d),
                                   format=d.format.qemu_format) for d in disks),
            from_checkpoint=record(since) if since else None,
            to_checkpoint_id=checkpoint_id or None))
        with self.ctx.locks.hold(backup.vm_id), store.db.transaction():
            if checkpoint_id:
                leaf = self._leaf(backup.vm_id)
                store.checkpoints.insert(VmCheckpoint(
                    id=checkpoint_id, vm_id=backup.vm_id, created=time.time(),
                    disk_ids=qcow2, parent_id=leaf.id if leaf else "",
                    description=backup.description))
            self._update(backup, phase=BackupPhase.READY, to_checkpoint_id=checkpoint_id,
                         modes=tuple((image, DiskBackupMode(mode))
                                     for image, mode in started.modes))

    def _end(self, backup: VmBackup) -> None:
        agent = self.ctx.hosts.agents.get(backup.host_id)
        if agent is not None:
            agent.stop_backup(backup.vm_id, backup.id,
                              checkpoint_ids=self._checkpoint_ids(backup))
        self._unlock(backup)
        self._update(self.ctx.store.backups.get(backup.id), phase=BackupPhase.SUCCEEDED)
        vm = self.ctx.store.vms.find(backup.vm_id)
        self.ctx.events.record(EventCode.VM_BACKUP_FINALIZED,
                               f"Backup {backup.id} for VM {vm.name if vm else backup.vm_id} "
                               "was finalized.", vm_id=backup.vm_id, user=backup.owner)

    def _failed(self, backup_id: str, reason: str) -> None:
        backup = self.ctx.store.backups.find(backup_id)
        if backup is None or backup.phase.finished:
            return
        agent = self.ctx.hosts.agents.get(backup.host_id)
        if agent is not None and backup.phase is not BackupPhase.INITIALIZING:
            try:  # the host may have begun serving before it failed
                agent.stop_backup(backup.vm_id, backup.id,
                                  checkpoint_ids=self._checkpoint_ids(backup))
            except VirtStickError as exc:  # the record ends all the same
                log.warning("could not stop backup %s on its host: %s", backup.id, exc.detail)
        self._unlock(backup)
        self._update(backup, phase=BackupPhase.FAILED, message=reason)
        vm = self.ctx.store.vms.find(backup.vm_id)
        self.ctx.events.record(EventCode.VM_BACKUP_FAILED,
                               f"Backup {backup.id} for VM {vm.name if vm else backup.vm_id} "
                               f"failed: {reason}.", severity=EventSeverity.ERROR,
                               vm_id=backup.vm_id, user=backup.owner)

    # Checks and helpers

    def _check_start(self, vm: Vm, request: BackupRequest) -> builtins.list[Disk]:
        store = self.ctx.store
        if vm.status is not VmStatus.UP:
            raise InvalidState(f"Cannot back up VM '{vm.name}': it is {vm.status.value}; a "
                               "backup is taken of a VM that is up.")
        if any(not b.phase.finished for b in store.backups.where(vm_id=vm.id)):
            raise BackupRunning(f"Cannot back up VM '{vm.name}': the VM is during a backup "
                                "operation.")
        if any(s.status is SnapshotStatus.IN_PREVIEW for s in store.snapshots.where(vm_id=vm.id)):
            raise InvalidState(f"Cannot back up VM '{vm.name}': it is previewing a snapshot.")
        if len(request.description) > MAX_DESCRIPTION:
            raise InvalidInput(f"A backup's description is at most {MAX_DESCRIPTION} "
                               "characters.")
        if not request.disk_ids:
            raise InvalidInput("A backup needs <disks> with the disks to back up.")
        attached = {a.disk_id: a for a in store.attachments.where(vm_id=vm.id)}
        disks = []
        for disk_id in dict.fromkeys(request.disk_ids):
            disk = store.disks.find(disk_id)
            if disk is None or disk_id not in attached:
                raise NotFound(f"VM '{vm.name}' has no disk with id '{disk_id[:60]}'.")
            if not attached[disk_id].active:
                raise InvalidState(f"Disk '{disk.name}' is not active in VM '{vm.name}'; "
                                   "only plugged disks are backed up.")
            if disk.status is not DiskStatus.OK:
                raise InvalidState(f"Disk '{disk.name}' is {disk.status.value}; it is backed "
                                   "up when it is ok.")
            disks.append(disk)
        return disks

    def _from_checkpoint(self, vm: Vm, checkpoint_id: str) -> VmCheckpoint | None:
        if not checkpoint_id:
            return None
        found = self.ctx.store.checkpoints.find(checkpoint_id)
        if found is None or found.vm_id != vm.id:
            raise NotFound(f"Checkpoint ID {checkpoint_id[:60]} doesn't exist for VM "
                           f"'{vm.name}'.")
        if found.state is CheckpointState.INVALID:
            raise InvalidState(f"Checkpoint ID {found.id} is invalid and should be removed; "
                               "take a full backup.")
        return found

    def _new_id(self, wanted: str) -> str:
        if not wanted:
            return new_id()
        try:
            chosen = str(uuid.UUID(wanted))
        except ValueError:
            raise InvalidInput(f"A backup id is a UUID, not '{wanted[:60]}'.") from None
        if self.ctx.store.backups.find(chosen) is not None:
            raise NameInUse(f"A backup with id {chosen} exists.")
        return chosen

    def _leaf(self, vm_id: str) -> VmCheckpoint | None:
        found = sorted(self.ctx.store.checkpoints.where(vm_id=vm_id), key=lambda c: c.created)
        return found[-1] if found else None

    def _checkpoint_ids(self, backup: VmBackup) -> tuple[str, ...]:
        return tuple(i for i in (backup.from_checkpoint_id, backup.to_checkpoint_id) if i)

    def _unlock(self, backup: VmBackup) -> None:
        store = self.ctx.store
        for disk_id in backup.disk_ids:
            with self.ctx.locks.hold(disk_id):
                disk = store.disks.find(disk_id)
                if disk is not None and disk.status is DiskStatus.LOCKED:
                    store.disks.update(replace(disk, status=DiskStatus.OK))

    def _update(self, backup: VmBackup, **changes: object) -> VmBackup:
        current = self.ctx.store.backups.find(backup.id) or backup
        return self.ctx.store.backups.update(
            replace(current, modified=time.time(), **changes))  # type: ignore[arg-type]

    def _forget_ended(self) -> None:
        now = time.time()
        for backup in self.ctx.store.backups.all():
            keep = KEEP_SUCCEEDED if backup.phase is BackupPhase.SUCCEEDED else KEEP_FAILED
            if backup.phase.finished and backup.modified + keep < now:
                self.ctx.store.backups.delete(backup.id)


def record(checkpoint: VmCheckpoint) -> CheckpointRecord:
    """A checkpoint as the host is told of it."""
    return CheckpointRecord(id=checkpoint.id, created=checkpoint.created,
                            image_ids=checkpoint.disk_ids)
