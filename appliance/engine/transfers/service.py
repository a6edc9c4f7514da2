"""Image transfers: a disk (or a disk snapshot) opened on the host for one client to upload
into or download from, then finalized or cancelled.

The engine checks who may touch the disk, locks it, and asks the host agent for a ticket;
the client then moves the data with the daemon directly. Finalizing removes the ticket and,
for an upload, puts what was written in place of the disk's volume; cancelling (the user's,
or the system's after the client fell silent) removes the ticket and keeps the disk as it
was. Either way the disk is unlocked at the end.
"""

from __future__ import annotations

import builtins
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import chains, permissions
from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, can_use_vm
from appliance.engine.backups.model import BackupPhase, DiskBackupMode
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskContentType, DiskStatus, EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Disk
from appliance.engine.transfers.model import ImageTransfer, TimeoutPolicy, TransferPhase
from appliance.errors import InvalidInput, InvalidState, NotFound, VirtStickError
from appliance.vdsm.imageio.transfers import TransferDirection, TransferFormat, TransferOpen

log = logging.getLogger(__name__)

DEFAULT_INACTIVITY_TIMEOUT = 60  # oVirt's TransferImageClientInactivityTimeoutInSeconds
MAX_INACTIVITY_TIMEOUT = 24 * 3600
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]")


@dataclass(frozen=True)
class TransferStart:
    direction: TransferDirection
    disk_id: str = ""
    snapshot_id: str = ""  # a disk snapshot (a volume id) instead of the disk
    format: TransferFormat = TransferFormat.COW  # oVirt's default; every client asks raw
    inactivity_timeout: int | None = None
    timeout_policy: TimeoutPolicy = TimeoutPolicy.LEGACY
    shallow: bool = False  # downloads: only the volume itself, not its backing chain
    host_id: str = ""  # the host the client asked for; transfers run where storage is
    backup_id: str = ""  # a disk of this ready backup, as its host serves it


@dataclass(frozen=True)
class TransferUrls:
    transfer_url: str  # the host's daemon, by the host's address
    proxy_url: str  # the same daemon, by the name the client reached the engine with


Clock = Callable[[], float]


class ImageTransfers:
    def __init__(self, ctx: EngineContext, *, local_host_id: Callable[[], str],
                 clock: Clock = time.time) -> None:
        self.ctx = ctx
        self._local_host_id = local_host_id
        self._clock = clock

    # Reads

    @audited_read(AuditAction.IMAGE_TRANSFER_LIST)
    def list(self, *, actor: Actor) -> builtins.list[ImageTransfer]:
        return [t for t in self.ctx.store.image_transfers.all() if _may_see(actor, t)]

    @audited_read(AuditAction.IMAGE_TRANSFER_GET)
    def get(self, transfer_id: str, *, actor: Actor) -> ImageTransfer:
        found = self.ctx.store.image_transfers.find(transfer_id)
        if found is None or not _may_see(actor, found):
            raise NotFound(f"There is no image transfer with id '{transfer_id}'.")
        return found

    def urls(self, transfer: ImageTransfer, *, engine_host: str) -> TransferUrls | None:
        """Where the client moves the data while the transfer is open; ``engine_host`` is
        the name (or address) the client used to reach the API."""
        if not transfer.open or not transfer.port:
            return None
        host = self.ctx.store.hosts.find(transfer.host_id)
        address = host.address if host is not None else "localhost"
        proxy = engine_host if _HOSTNAME.fullmatch(engine_host) else address
        path = f"/images/{transfer.ticket_id}"
        return TransferUrls(transfer_url=f"https://{address}:{transfer.port}{path}",
                            proxy_url=f"https://{proxy}:{transfer.port}{path}")

    # Actions

    @audited(AuditAction.IMAGE_TRANSFER_START)
    def start(self, request: TransferStart, *, actor: Actor,
              owns_disk: bool = False) -> ImageTransfer:
        """``owns_disk``: the disk was made for this upload and is removed if it fails."""
        if request.backup_id:
            return self._start_backup_download(request, actor)
        disk, volume_id = self._target(request, actor)
        with self.ctx.locks.hold(disk.id):
            disk = self.ctx.store.disks.get(disk.id)
            self._require_transferable(disk, request)
            transfer = ImageTransfer(
                id=new_id(), disk_id=disk.id, volume_id=volume_id,
                direction=request.direction, format=request.format,
                phase=TransferPhase.INITIALIZING, host_id=self._local_host_id(),
                ticket_id=new_id(), owner_id=actor.user_id, owner=actor.name,
                inactivity_timeout=_inactivity(request.inactivity_timeout),
                timeout_policy=request.timeout_policy, snapshot_id=request.snapshot_id,
                shallow=request.shallow, created=self._clock(), owns_disk=owns_disk)
            with self.ctx.store.db.transaction():
                self.ctx.store.disks.update(replace(disk, status=DiskStatus.LOCKED))
                self.ctx.store.image_transfers.insert(transfer)
        transfer = self._open(transfer, self._open_request(transfer, disk))
        self.ctx.events.record(
            EventCode.IMAGE_TRANSFER_STARTED, f"{actor.name} started to {transfer.direction.value} "
            f"disk {disk.name}{' (snapshot ' + volume_id + ')' if request.snapshot_id else ''}.",
            storage_domain_id=disk.storage_domain_id, user=actor.name)
        return transfer

    def _start_backup_download(self, request: TransferStart, actor: Actor) -> ImageTransfer:
        """A disk of a ready backup, served by QEMU on the VM's host: the backup holds the
        disk locked, so the transfer neither locks nor unlocks it."""
        store = self.ctx.store
        backup = store.backups.find(request.backup_id)
        vm = store.vms.find(backup.vm_id) if backup is not None else None
        if backup is None or vm is None or not can_use_vm(actor, vm):
            raise NotFound(f"There is no backup with id '{request.backup_id}'.")
        if request.direction is not TransferDirection.DOWNLOAD:
            raise InvalidInput("A backup's disks are downloaded, not uploaded.")
        if backup.phase is not BackupPhase.READY:
            raise InvalidState(f"Backup {backup.id} is {backup.phase.value}; its disks are "
                               "downloaded while it is ready.")
        if request.disk_id not in backup.disk_ids:
            raise NotFound(f"Backup {backup.id} has no disk with id '{request.disk_id}'.")
        disk = store.disks.get(request.disk_id)
        incremental = backup.mode(disk.id) is DiskBackupMode.INCREMENTAL
        transfer = ImageTransfer(
            id=new_id(), disk_id=disk.id, volume_id=disk.volume_id,
            direction=TransferDirection.DOWNLOAD, format=request.format,
            phase=TransferPhase.INITIALIZING, host_id=backup.host_id, ticket_id=new_id(),
            owner_id=actor.user_id, owner=actor.name,
            inactivity_timeout=_inactivity(request.inactivity_timeout),
            timeout_policy=request.timeout_policy, created=self._clock(),
            backup_id=backup.id)
        store.image_transfers.insert(transfer)
        transfer = self._open(transfer, TransferOpen(
            ticket_id=transfer.ticket_id, transfer_id=transfer.id,
            volume=chains.volume(disk), volume_format=disk.format.qemu_format,
            direction=TransferDirection.DOWNLOAD, format=TransferFormat.RAW,
            size=disk.provisioned_size, inactivity_timeout=transfer.inactivity_timeout,
            filename=f"{disk.name}.raw", backup_id=backup.id, dirty=incremental))
        self.ctx.events.record(
            EventCode.IMAGE_TRANSFER_STARTED, f"{actor.name} started to download disk "
            f"{disk.name} of backup {backup.id} ({'incremental' if incremental else 'full'}).",
            vm_id=vm.id, user=actor.name)
        return transfer

    def _open(self, transfer: ImageTransfer, request: TransferOpen) -> ImageTransfer:
        """The transfer's ticket on its host, and the transfer under way; a host that cannot
        open it ends the transfer as failed (the disk unlocked) before the error goes on."""
        try:
            endpoint = self.ctx.hosts.agent(transfer.host_id).open_image_transfer(request)
        except Exception as exc:
            self._end(transfer, TransferPhase.FINISHED_FAILURE, message=_message(exc))
            raise
        return self._update(transfer, phase=TransferPhase.TRANSFERRING, size=endpoint.size,
                            port=endpoint.port)

    @audited(AuditAction.IMAGE_TRANSFER_FINALIZE)
    def finalize(self, transfer_id: str, *, actor: Actor) -> ImageTransfer:
        """Finish the transfer: for an upload, what the client wrote becomes the disk's
        content once it is checked. Runs in the background; poll the phase."""
        with self.ctx.locks.hold(transfer_id):
            transfer = self.get(transfer_id, actor=actor)
            if transfer.phase in (TransferPhase.FINALIZING_SUCCESS,
                                  TransferPhase.FINISHED_SUCCESS):
                return transfer
            if not transfer.open:
                raise InvalidState(f"Image transfer {transfer.id} is "
                                   f"{transfer.phase.value}; only a transferring one can be "
                                   "finalized.")
            transfer = self._update(transfer, phase=TransferPhase.FINALIZING_SUCCESS)
        self.ctx.jobs.run(f"Finalizing image transfer {transfer.id}",
                          lambda _job: self._close(transfer, commit=True), owner=actor.name)
        return transfer

    @audited(AuditAction.IMAGE_TRANSFER_CANCEL)
    def cancel(self, transfer_id: str, *, actor: Actor) -> ImageTransfer:
        """Stop the transfer: the ticket is removed at once and the disk keeps what it had."""
        with self.ctx.locks.hold(transfer_id):
            transfer = self.get(transfer_id, actor=actor)
            if not transfer.phase.cancellable:
                if transfer.phase.finished or transfer.phase in (
                        TransferPhase.CANCELLED_USER, TransferPhase.FINALIZING_CLEANUP):
                    return transfer
                raise InvalidState(f"Image transfer {transfer.id} is {transfer.phase.value}; "
                                   "it can no longer be cancelled.")
            transfer = self._update(transfer, phase=TransferPhase.CANCELLED_USER,
                                    message=f"cancelled by {actor.name}")
        self.ctx.jobs.run(f"Cancelling image transfer {transfer.id}",
                          lambda _job: self._close(transfer, commit=False), owner=actor.name)
        return transfer

    # For the monitor and the engine's start and stop

    def cancel_by_system(self, transfer: ImageTransfer, reason: str) -> None:
        with self.ctx.locks.hold(transfer.id):
            current = self.ctx.store.image_transfers.find(transfer.id)
            if current is None or not current.open:
                return
            current = self._update(current, phase=TransferPhase.CANCELLED_SYSTEM,
                                   message=reason)
        self._close(current, commit=False)

    def pause_by_system(self, transfer: ImageTransfer, reason: str) -> None:
        """The ``pause`` policy: the ticket goes, the disk stays locked until a user cancels
        the transfer (VirtStick cannot resume it)."""
        with self.ctx.locks.hold(transfer.id):
            current = self.ctx.store.image_transfers.find(transfer.id)
            if current is None or not current.open:
                return
            current = self._update(current, phase=TransferPhase.PAUSED_SYSTEM, active=False,
                                   message=reason)
        self._host_close(current, commit=False)

    def record_progress(self, transfer: ImageTransfer, *, transferred: int | None,
                        active: bool) -> None:
        changes: dict[str, object] = {}
        if transferred is not None and transferred != transfer.transferred:
            changes["transferred"] = transferred
        if active != transfer.active:
            changes["active"] = active
        if changes:
            with self.ctx.locks.hold(transfer.id):
                current = self.ctx.store.image_transfers.find(transfer.id)
                if current is not None and current.open:
                    self._update(current, **changes)

    def open_transfers(self) -> builtins.list[ImageTransfer]:
        return self.ctx.store.image_transfers.where(phase=TransferPhase.TRANSFERRING)

    def abandon_all(self, reason: str) -> None:
        """End every unfinished transfer (the service starts, or stops): no client can go
        on with them, so their disks are unlocked as they were."""
        for transfer in self.ctx.store.image_transfers.all():
            if transfer.phase.finished:
                continue
            self._host_close(transfer, commit=False)
            self._end(transfer, TransferPhase.FINISHED_FAILURE, message=reason)

    def forget_finished(self, *, older_than: float) -> None:
        limit = self._clock() - older_than
        for transfer in self.ctx.store.image_transfers.all():
            if transfer.phase.finished and transfer.ended and transfer.ended < limit:
                self.ctx.store.image_transfers.delete(transfer.id)

    # Steps

    def _target(self, request: TransferStart, actor: Actor) -> tuple[Disk, str]:
        store = self.ctx.store
        if request.snapshot_id:
            if request.direction is TransferDirection.UPLOAD:
                raise InvalidInput("A disk snapshot can only be downloaded; upload into the "
                                   "disk itself.")
            volume = store.volumes.find(request.snapshot_id)
            disk = store.disks.find(volume.disk_id) if volume is not None else None
            if disk is None or not permissions.can_use_disk(store, actor, disk):
                raise NotFound(f"There is no disk snapshot with id '{request.snapshot_id}'.")
            return disk, request.snapshot_id
        if not request.disk_id:
            raise InvalidInput("An image transfer needs <disk id=\"...\"/> or "
                               "<snapshot id=\"...\"/>.")
        disk = store.disks.find(request.disk_id)
        if disk is None or not permissions.can_use_disk(store, actor, disk):
            raise NotFound(f"There is no disk with id '{request.disk_id}'.")
        return disk, disk.volume_id

    def _require_transferable(self, disk: Disk, request: TransferStart) -> None:
        store = self.ctx.store
        if disk.status is not DiskStatus.OK:
            raise InvalidState(f"Disk '{disk.name}' is {disk.status.value} (another image "
                               "transfer or operation holds it); try again when it is ok.")
        for attachment in store.attachments.where(disk_id=disk.id):
            vm = store.vms.find(attachment.vm_id)
            if vm is not None and vm.status.is_running:
                raise InvalidState(f"Disk '{disk.name}' is in use by VM '{vm.name}', which "
                                   f"is {vm.status.value}; stop the VM to transfer the disk.")
        if request.direction is TransferDirection.DOWNLOAD:
            return
        volumes = chains.own_chain(store, disk)
        if disk.template_id is not None or len(volumes) != 1 or volumes[0].parent_id:
            raise InvalidState(f"Disk '{disk.name}' has snapshots or a template below it; "
                               "an upload replaces a disk's whole content, so upload into a "
                               "new disk.")

    def _open_request(self, transfer: ImageTransfer, disk: Disk) -> TransferOpen:
        volume = self.ctx.store.volumes.get(transfer.volume_id)
        return TransferOpen(
            ticket_id=transfer.ticket_id, transfer_id=transfer.id,
            volume=chains.volume(disk, transfer.volume_id),
            volume_format=volume.format.qemu_format, direction=transfer.direction,
            format=transfer.format, size=disk.provisioned_size,
            backing_chain=not transfer.shallow,
            inactivity_timeout=transfer.inactivity_timeout,
            iso=disk.content_type is DiskContentType.ISO,
            filename=f"{disk.name}.{'qcow2' if volume.format.qemu_format == 'qcow2' else 'raw'}")

    def _close(self, transfer: ImageTransfer, *, commit: bool) -> None:
        """The host side ends; the transfer reaches its final phase and the disk unlocks."""
        commit = commit and transfer.direction is TransferDirection.UPLOAD
        if transfer.phase is TransferPhase.CANCELLED_USER:
            transfer = self._update(transfer, phase=TransferPhase.FINALIZING_CLEANUP)
        elif transfer.phase is TransferPhase.CANCELLED_SYSTEM:
            transfer = self._update(transfer, phase=TransferPhase.FINALIZING_FAILURE)
        try:
            self._host_close(transfer, commit=commit, raise_errors=True)
        except VirtStickError as exc:
            self._update(transfer, phase=TransferPhase.FINALIZING_FAILURE, message=exc.detail)
            self._end(transfer, TransferPhase.FINISHED_FAILURE, message=exc.detail)
            raise
        final = {TransferPhase.FINALIZING_SUCCESS: TransferPhase.FINISHED_SUCCESS,
                 TransferPhase.FINALIZING_CLEANUP: TransferPhase.FINISHED_CLEANUP}.get(
                     transfer.phase, TransferPhase.FINISHED_FAILURE)
        self._end(transfer, final, message=transfer.message)

    def _host_close(self, transfer: ImageTransfer, *, commit: bool,
                    raise_errors: bool = False) -> None:
        disk = self.ctx.store.disks.find(transfer.disk_id)
        if disk is None:
            return
        try:
            self.ctx.hosts.agent(transfer.host_id).close_image_transfer(
                transfer.ticket_id, volume=chains.volume(disk, transfer.volume_id),
                commit=commit)
        except VirtStickError as exc:
            if raise_errors:
                raise
            log.warning("could not close image transfer %s: %s", transfer.id, exc.detail)

    def _end(self, transfer: ImageTransfer, phase: TransferPhase, *, message: str) -> None:
        store = self.ctx.store
        with self.ctx.locks.hold(transfer.disk_id), store.db.transaction():
            disk = store.disks.find(transfer.disk_id)
            # A backup's download leaves the disk to the backup, which unlocks it.
            if disk is not None and disk.status is DiskStatus.LOCKED and not transfer.backup_id:
                store.disks.update(replace(disk, status=DiskStatus.OK))
            current = store.image_transfers.find(transfer.id) or transfer
            store.image_transfers.update(replace(current, phase=phase, active=False,
                                                 ended=self._clock(), message=message))
        if transfer.owns_disk and disk is not None and phase is not \
                TransferPhase.FINISHED_SUCCESS:
            self._forget_disk(disk)
        if phase is TransferPhase.FINISHED_FAILURE:
            self.ctx.events.record(EventCode.IMAGE_TRANSFER_FAILED,
                                   f"Image transfer {transfer.id} of disk "
                                   f"{disk.name if disk else transfer.disk_id} ended: "
                                   f"{message}", severity=EventSeverity.WARNING,
                                   user=transfer.owner)

    def _forget_disk(self, disk: Disk) -> None:
        """A disk made for an upload that did not end well (oVirt removes it too)."""
        store = self.ctx.store
        try:
            self.ctx.hosts.any().delete_image(storage_domain_id=disk.storage_domain_id,
                                              image_id=disk.id)
        except VirtStickError as exc:
            log.warning("could not remove disk %s: %s", disk.id, exc.detail)
        with store.db.transaction():
            for volume in store.volumes.where(disk_id=disk.id):
                store.volumes.delete(volume.id)
            store.disks.delete(disk.id)

    def _update(self, transfer: ImageTransfer, **changes: object) -> ImageTransfer:
        return self.ctx.store.image_transfers.update(replace(transfer, **changes))  # type: ignore[arg-type]


def _may_see(actor: Actor, transfer: ImageTransfer) -> bool:
    return actor.superuser or transfer.owner_id == actor.user_id


def _inactivity(value: int | None) -> int:
    if value is None or value <= 0:
        return DEFAULT_INACTIVITY_TIMEOUT
    return min(value, MAX_INACTIVITY_TIMEOUT)


def _message(exc: Exception) -> str:
    return exc.detail if isinstance(exc, VirtStickError) else str(exc)
