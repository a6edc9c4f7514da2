"""Image transfers on this host: what the engine opens, watches and closes by ticket id.

Opening serves the volume (or, for an upload, a staging volume beside it) through qemu-nbd
and gives the daemon a ticket for it; closing removes the ticket first (no request runs
after that), stops qemu-nbd (its writes are then in the file) and, for an upload that is
finalized, puts the checked staging volume in place of the disk's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from appliance.errors import HostAgentError, NotFound
from appliance.vdsm.imageio import nbd, staging
from appliance.vdsm.imageio.control import Ticket, TicketStatus
from appliance.vdsm.imageio.daemon import ImageioDaemon
from appliance.vdsm.imageio.nbd import NbdExport, NbdServer
from appliance.vdsm.storage import volume
from appliance.vdsm.storage_interface import VolumeId

log = logging.getLogger(__name__)

# The ticket outlives a client's silence this much past the transfer's inactivity timeout:
# the engine ends the transfer first, the daemon's expiry is the backstop.
_TICKET_GRACE = 60


class TransferDirection(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"


class TransferFormat(StrEnum):
    """What the client reads or writes: ``raw`` guest data (converted to and from the
    volume's format by qemu-nbd), or ``cow``, the qcow2 file's own bytes."""

    RAW = "raw"
    COW = "cow"


@dataclass(frozen=True)
class TransferOpen:
    ticket_id: str
    transfer_id: str
    volume: VolumeId
    volume_format: str  # as the volume is stored: "qcow2" or "raw"
    direction: TransferDirection
    format: TransferFormat
    size: int  # the disk's provisioned size
    backing_chain: bool = True  # downloads: the whole chain, or only this volume
    inactivity_timeout: int = 60
    filename: str = ""  # offered to browsers downloading
    iso: bool = False  # an upload into the ISO library: it must be an ISO 9660 image
    backup_id: str = ""  # a download of this running backup's disk (QEMU serves it)
    dirty: bool = False  # the backup is incremental for the disk: the client may ask
    #                      which extents changed since its checkpoint


@dataclass(frozen=True)
class TransferEndpoint:
    ticket_id: str
    port: int  # of the daemon's data listener
    size: int  # bytes the ticket reaches

    @property
    def path(self) -> str:
        return f"/images/{self.ticket_id}"


@dataclass
class _Open:
    request: TransferOpen
    path: Path | None  # the volume's file (None: a backup's export)
    server: NbdServer | None  # ours (None: QEMU's, a backup's)
    staging: Path | None


class HostTransfers:
    def __init__(self, daemon: ImageioDaemon) -> None:
        self.daemon = daemon
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self.daemon.settings.nbd_dir.mkdir(parents=True, exist_ok=True)
        nbd.stop_stale(self.daemon.settings.nbd_dir)
        self.daemon.start()

    def stop(self) -> None:
        for ticket_id in list(self._open):
            opened = self._open[ticket_id]
            try:
                self.close(ticket_id, path=opened.path or Path("/nonexistent"), commit=False)
            except HostAgentError as exc:
                log.warning("could not close transfer %s: %s", ticket_id, exc.detail)
        self.daemon.stop()

    def open(self, request: TransferOpen, *, path: Path) -> TransferEndpoint:
        """Serve the volume at ``path`` (the agent resolved ``request.volume`` to it)."""
        self.daemon.wait_ready()
        if not path.is_file():
            raise NotFound(f"volume {request.volume.volume_id} of image "
                           f"{request.volume.image_id} is missing")
        with self._lock:
            if request.ticket_id in self._open:
                raise HostAgentError(f"ticket {request.ticket_id} is already open")
        export, staging_path, size = self._export(request, path)
        server = NbdServer(self.daemon.settings.nbd_dir / f"{request.ticket_id}.sock", export,
                           shared=self.daemon.settings.max_connections)
        try:
            server.start()
            self.daemon.control.add(Ticket(
                uuid=request.ticket_id, url=server.url, size=size,
                ops=("write",) if request.direction is TransferDirection.UPLOAD else ("read",),
                timeout=request.inactivity_timeout + _TICKET_GRACE,
                inactivity_timeout=request.inactivity_timeout,
                transfer_id=request.transfer_id, filename=request.filename))
        except BaseException:
            server.stop()
            if staging_path is not None:
                staging.discard(staging_path)
            raise
        with self._lock:
            self._open[request.ticket_id] = _Open(request, path, server, staging_path)
        return TransferEndpoint(ticket_id=request.ticket_id, port=self.daemon.port, size=size)

    def open_export(self, request: TransferOpen, *, url: str) -> TransferEndpoint:
        """A download from an NBD export someone else serves (a running backup's, in
        QEMU): only the ticket is ours."""
        self.daemon.wait_ready()
        if request.direction is not TransferDirection.DOWNLOAD:
            raise HostAgentError("a backup's disk can only be downloaded")
        with self._lock:
            if request.ticket_id in self._open:
                raise HostAgentError(f"ticket {request.ticket_id} is already open")
        self.daemon.control.add(Ticket(
            uuid=request.ticket_id, url=url, size=request.size, ops=("read",),
            timeout=request.inactivity_timeout + _TICKET_GRACE,
            inactivity_timeout=request.inactivity_timeout, transfer_id=request.transfer_id,
            filename=request.filename, dirty=request.dirty))
        with self._lock:
            self._open[request.ticket_id] = _Open(request, None, None, None)
        return TransferEndpoint(ticket_id=request.ticket_id, port=self.daemon.port,
                                size=request.size)

    def status(self, ticket_id: str) -> TicketStatus | None:
        """The ticket's activity, or None when the daemon no longer has it (it restarted)."""
        return self.daemon.control.status(ticket_id)

    def close(self, ticket_id: str, *, path: Path, commit: bool) -> None:
        """End the transfer: the ticket first, then qemu-nbd; an upload's data goes into the
        disk only with ``commit``. Closing what is not open only discards leftovers."""
        self.daemon.control.remove(ticket_id)
        with self._lock:
            opened = self._open.pop(ticket_id, None)
        if opened is None:
            if commit:
                raise HostAgentError(f"transfer ticket {ticket_id} is not open on this host "
                                     "(the service restarted?); its data is lost")
            staging.discard(staging.path_for(path))
            return
        if opened.server is not None:
            opened.server.stop()
        if opened.staging is None or opened.path is None:
            return
        if not commit:
            staging.discard(opened.staging)
            return
        try:
            self._verify(opened.request, opened.staging)
            staging.commit(opened.staging, opened.path)
        except BaseException:
            staging.discard(opened.staging)
            raise

    def _export(self, request: TransferOpen, path: Path) -> tuple[NbdExport, Path | None, int]:
        if request.direction is TransferDirection.UPLOAD:
            target = staging.path_for(path)
            if request.format is TransferFormat.COW:
                size = staging.create_file(target, size=request.size)
                return NbdExport(target, "raw", read_only=False), target, size
            staging.create_guest(target, fmt=request.volume_format, size=request.size)
            return NbdExport(target, request.volume_format, read_only=False), target, request.size
        if request.format is TransferFormat.COW:
            return NbdExport(path, "raw", read_only=True), None, path.stat().st_size
        info = volume.info(path, fmt=request.volume_format)
        export = NbdExport(path, request.volume_format, read_only=True,
                           backing_chain=request.backing_chain)
        return export, None, info.virtual_size

    def _verify(self, request: TransferOpen, target: Path) -> None:
        if request.format is TransferFormat.COW:
            staging.verify_file(target, fmt=request.volume_format, size=request.size)
        else:
            staging.verify_guest(target, fmt=request.volume_format)
        if request.iso:
            staging.verify_iso(target)
