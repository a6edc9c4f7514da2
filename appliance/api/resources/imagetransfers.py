"""``/imagetransfers``: disks uploaded and downloaded through ovirt-imageio, as oVirt's SDK,
``ovirt-img`` and Ansible's ``ovirt_disk`` drive them; and ``disksnapshots`` (under storage
domains and disks), the volumes a download may name with ``<snapshot id>``.

A client adds a transfer (``<image_transfer><disk id="..."/><direction>upload</direction>``),
polls it until its phase is ``transferring``, moves the data with the daemon at
``transfer_url`` (or ``proxy_url``, the same daemon by the API's host name), then calls
``finalize`` (or ``cancel``) and polls until the phase is ``finished_success``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, request

from appliance.api import http, listing
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.transfers.disk_snapshots import DiskSnapshot
from appliance.engine.transfers.model import ImageTransfer, TimeoutPolicy, TransferPhase
from appliance.engine.transfers.service import TransferStart, TransferUrls
from appliance.errors import InvalidInput, NotSupported
from appliance.vdsm.imageio.transfers import TransferDirection, TransferFormat

_ACCEPTED = frozenset(("active", "comment", "description", "name", "phase",
                       "proxy_url", "signed_ticket", "transfer_url", "transferred"))


@dataclass(frozen=True)
class _View:
    transfer: ImageTransfer
    urls: TransferUrls | None

    @property
    def id(self) -> str:
        return self.transfer.id


IMAGE_TRANSFER = Type(
    tag="image_transfer", plural="imagetransfers", accepted=_ACCEPTED,
    description="A disk's data moving in or out through ovirt-imageio",
    fields=(
        Field("active", Kind.BOOLEAN, get=lambda v: v.transfer.active),
        Field("direction", get=lambda v: v.transfer.direction.value, writable=True,
              values=tuple(TransferDirection)),
        Field("format", get=lambda v: v.transfer.format.value, writable=True,
              values=tuple(TransferFormat)),
        Field("inactivity_timeout", Kind.INTEGER, get=lambda v: v.transfer.inactivity_timeout,
              writable=True),
        Field("phase", get=lambda v: v.transfer.phase.value, values=tuple(TransferPhase)),
        Field("proxy_url", get=lambda v: v.urls.proxy_url if v.urls else None),
        Field("shallow", Kind.BOOLEAN, get=lambda v: v.transfer.shallow, writable=True),
        Field("timeout_policy", get=lambda v: v.transfer.timeout_policy.value, writable=True,
              values=tuple(TimeoutPolicy)),
        Field("transfer_url", get=lambda v: v.urls.transfer_url if v.urls else None),
        Field("transferred", Kind.INTEGER, get=lambda v: v.transfer.transferred),
        Field("disk", Kind.REF, get=lambda v: v.transfer.disk_id, writable=True, ref="disks"),
        # Older clients name the disk by <image id>.
        Field("image", Kind.REF, get=lambda v: v.transfer.disk_id, writable=True, ref="disks"),
        Field("snapshot", Kind.REF, get=lambda v: v.transfer.snapshot_id or None,
              writable=True, ref="disksnapshots"),
        Field("host", Kind.REF, get=lambda v: v.transfer.host_id, writable=True, ref="hosts"),
        Field("backup", Kind.REF, get=lambda v: v.transfer.backup_id or None, writable=True,
              ref="backups"),
    ),
)

DISK_SNAPSHOT = Type(
    tag="disk_snapshot", plural="disksnapshots",
    description="One volume of a disk's chain, as a VM snapshot froze it (or the active top)",
    fields=(
        Field("name", get=lambda s: s.disk.name),
        Field("alias", get=lambda s: s.disk.name),
        Field("description", get=lambda s: s.description),
        Field("format", get=lambda s: s.volume.format.value),
        Field("sparse", Kind.BOOLEAN, get=lambda s: s.disk.sparse),
        Field("status", get=lambda s: s.disk.status.value),
        Field("provisioned_size", Kind.INTEGER, get=lambda s: s.disk.provisioned_size),
        Field("content_type", get=lambda s: s.disk.content_type.value),
        Field("storage_type", get=lambda s: "image"),
        Field("image_id", get=lambda s: s.volume.id),
        Field("active", Kind.BOOLEAN, get=lambda s: s.active),
        Field("disk", Kind.REF, get=lambda s: s.disk.id, ref="disks"),
        Field("parent", Kind.REF, get=lambda s: s.parent_id, ref="disksnapshots"),
        Field("snapshot", Kind.REF, get=lambda s: s.snapshot_id or None, ref="snapshots"),
        Field("storage_domains/storage_domain", Kind.REF,
              get=lambda s: s.disk.storage_domain_id, ref="storagedomains"),
        Field("creation_time", Kind.DATE, get=lambda s: s.volume.created or None),
    ),
)


def install(routes: Routes) -> None:
    routes.add("/imagetransfers", Operation.LIST, tag="image_transfer",
               summary="List image transfers")(list_transfers)
    routes.add("/imagetransfers", Operation.ADD, tag="image_transfer",
               summary="Start uploading into or downloading a disk or disk snapshot")(
                   add_transfer)
    routes.add("/imagetransfers/<transfer_id>", Operation.GET, tag="image_transfer",
               summary="Get an image transfer (its phase and URLs)")(get_transfer)
    routes.add("/imagetransfers/<transfer_id>/finalize", Operation.ACTION, tag="action",
               summary="Finish an image transfer (an upload becomes the disk's content)")(
                   finalize_transfer)
    routes.add("/imagetransfers/<transfer_id>/cancel", Operation.ACTION, tag="action",
               summary="Cancel an image transfer (the disk keeps what it had)")(
                   cancel_transfer)
    for verb in ("pause", "resume"):
        routes.add(f"/imagetransfers/<transfer_id>/{verb}", Operation.ACTION, tag="action",
                   summary=f"{verb.capitalize()} an image transfer (not supported)")(
                       not_supported)
    for parent in ("storagedomains/<domain_id>", "disks/<disk_id>"):
        routes.add(f"/{parent}/disksnapshots", Operation.LIST, tag="disk_snapshot",
                   summary="List disk snapshots")(list_disk_snapshots)
        routes.add(f"/{parent}/disksnapshots/<snapshot_id>", Operation.GET,
                   tag="disk_snapshot", summary="Get a disk snapshot")(get_disk_snapshot)


def list_transfers() -> Response:
    engine = http.engine()
    views = [_view(t) for t in engine.image_transfers.list(actor=http.actor())]
    return listing.list_response(IMAGE_TRANSFER, views, render=_render)


def get_transfer(transfer_id: str) -> Response:
    transfer = http.engine().image_transfers.get(transfer_id, actor=http.actor())
    return http.respond(IMAGE_TRANSFER.tag, _render(_view(transfer)))


def add_transfer() -> Response:
    values = http.read(IMAGE_TRANSFER)
    transfer = http.engine().image_transfers.start(_start(values), actor=http.actor())
    view = _view(transfer)
    return http.respond(IMAGE_TRANSFER.tag, _render(view), status=201,
                        location=http.href("imagetransfers", transfer.id))


def finalize_transfer(transfer_id: str) -> Response:
    http.read_action()
    http.engine().image_transfers.finalize(transfer_id, actor=http.actor())
    return http.respond_action()


def cancel_transfer(transfer_id: str) -> Response:
    http.read_action()
    http.engine().image_transfers.cancel(transfer_id, actor=http.actor())
    return http.respond_action()


def not_supported(transfer_id: str) -> Response:
    http.engine().image_transfers.get(transfer_id, actor=http.actor())
    raise NotSupported("VirtStick cannot pause or resume an image transfer; cancel it and "
                       "start a new one.")


def list_disk_snapshots(domain_id: str = "", disk_id: str = "") -> Response:
    service = http.engine().disk_snapshots
    if disk_id:
        found = service.of_disk(disk_id, actor=http.actor())
    else:
        found = service.of_domain(domain_id, actor=http.actor())
    return listing.list_response(DISK_SNAPSHOT, found,
                                 render=lambda s: _render_snapshot(s, sizes=True))


def get_disk_snapshot(snapshot_id: str, domain_id: str = "", disk_id: str = "") -> Response:
    found = http.engine().disk_snapshots.get(snapshot_id, actor=http.actor(), disk_id=disk_id,
                                             domain_id=domain_id)
    return http.respond(DISK_SNAPSHOT.tag, _render_snapshot(found, sizes=True))


def _start(values: dict[str, Any]) -> TransferStart:
    disk = values.get("disk") or values.get("image") or {}
    snapshot = values.get("snapshot") or {}
    if not values.get("direction"):
        raise InvalidInput("An image transfer needs <direction>upload</direction> or "
                           "<direction>download</direction>.")
    return TransferStart(
        direction=TransferDirection(values["direction"]),
        disk_id=str(disk.get("id") or ""), snapshot_id=str(snapshot.get("id") or ""),
        format=TransferFormat(values.get("format", TransferFormat.COW.value)),
        inactivity_timeout=values.get("inactivity_timeout"),
        timeout_policy=TimeoutPolicy(values.get("timeout_policy", TimeoutPolicy.LEGACY.value)),
        shallow=bool(values.get("shallow", False)),
        host_id=str((values.get("host") or {}).get("id") or ""),
        backup_id=str((values.get("backup") or {}).get("id") or ""))


def _view(transfer: ImageTransfer) -> _View:
    urls = http.engine().image_transfers.urls(transfer, engine_host=_request_host())
    return _View(transfer, urls)


def _render(view: _View) -> dict[str, Any]:
    return IMAGE_TRANSFER.render(view)


def _render_snapshot(snapshot: DiskSnapshot, *, sizes: bool) -> dict[str, Any]:
    node = DISK_SNAPSHOT.render(snapshot, href=http.href(
        "storagedomains", snapshot.disk.storage_domain_id, "disksnapshots", snapshot.id))
    if sizes:
        size = str(http.engine().disk_snapshots.size(snapshot))
        node["actual_size"] = size
        node["total_size"] = size
    return node


def _request_host() -> str:
    """The host name the client reached the API by, without the port."""
    host = request.host
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host


__all__ = ["install"]
