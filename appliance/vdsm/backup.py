"""Backups of a running VM's disks through libvirt's backup API (pull mode), as VDSM does.

libvirt asks QEMU to serve each disk, frozen at the backup's start, on an NBD socket of the
backup's own (writes the guest makes meanwhile keep the old blocks in a scratch file); the
image daemon reads it from there for a download. A checkpoint is a persistent dirty bitmap,
named by the checkpoint's id, in each qcow2 disk: it records every write from then on, so a
backup from it (incremental) serves only what changed, and the bitmap is what a later backup
needs, kept in the volume across restarts. libvirt's own record of checkpoints is left
empty between backups: the engine keeps the record, and the checkpoint an incremental backup
starts from is defined again from it (``REDEFINE``) just before, as oVirt does.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt
from defusedxml import ElementTree as SafeET

from appliance.errors import HostAgentError, InvalidState, NotFound
from appliance.vdsm.backup_interface import (
    FULL,
    INCREMENTAL,
    BackupDisk,
    BackupStart,
    BackupStarted,
    CheckpointRecord,
)
from appliance.vdsm.qemu_access import qemu_user
from appliance.vdsm.storage import volume

log = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0

class LiveBackups:
    def __init__(self, *, root: Path, system_instance: bool) -> None:
        self.root = root
        self._system = system_instance  # qemu:///system runs QEMU as its own user

    def socket(self, backup_id: str) -> Path:
        return self.root / backup_id / "nbd.sock"

    def export_url(self, backup_id: str, image_id: str) -> str:
        """Where the image daemon reads one disk of a ready backup."""
        socket = self.socket(backup_id)
        if not socket.exists():
            raise NotFound(f"backup {backup_id} is not serving on this host")
        return f"nbd:unix:{socket}:exportname={image_id}"

    def start(self, dom: libvirt.virDomain, request: BackupStart,
              paths: dict[str, Path]) -> BackupStarted:
        """Begin the backup of ``request.disks`` (``paths``: each image's top volume file);
        returns once QEMU serves them."""
        targets = _disk_targets(dom)
        chosen = {d.image_id: _target_of(d, paths[d.image_id], targets) for d in request.disks}
        directory = self._directory(request.backup_id)
        try:
            modes = _modes(dom, request, chosen, targets)
            checkpoint = _checkpoint_xml(request, chosen, targets) \
                if request.to_checkpoint_id else None
            dom.backupBegin(_backup_xml(request, chosen, modes, targets, directory),
                            checkpoint, 0)
        except libvirt.libvirtError as exc:
            self._clean(dom, request, directory)
            raise HostAgentError(f"libvirt could not begin backup {request.backup_id}: "
                                 f"{exc.get_error_message()}") from None
        except BaseException:
            self._clean(dom, request, directory)
            raise
        return BackupStarted(modes=tuple(sorted(modes.items())))

    def stop(self, dom: libvirt.virDomain | None, backup_id: str,
             checkpoint_ids: tuple[str, ...] = ()) -> None:
        """End the backup (idempotent: a VM that stopped ended it already) and forget
        libvirt's record of the checkpoints it used; their bitmaps stay in the volumes."""
        if dom is not None:
            if self.active(dom, backup_id):
                try:
                    dom.abortJob()
                except libvirt.libvirtError as exc:
                    if self.active(dom, backup_id):
                        raise HostAgentError(f"libvirt could not end backup {backup_id}: "
                                             f"{exc.get_error_message()}") from None
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.active(dom, backup_id):  # QEMU lets go of the scratch files
                if time.monotonic() > deadline:
                    raise HostAgentError(f"backup {backup_id} did not end within "
                                         f"{STOP_TIMEOUT:.0f} s")
                time.sleep(0.05)
            _forget_checkpoints(dom, checkpoint_ids)
        shutil.rmtree(self.root / backup_id, ignore_errors=True)

    def active(self, dom: libvirt.virDomain, backup_id: str) -> bool:
        """The VM's backup job is this backup's (its NBD socket is ours)."""
        try:
            xml = dom.backupGetXMLDesc(0)
        except libvirt.libvirtError:
            return False  # no backup job
        server = SafeET.fromstring(xml).find("server")
        return server is not None and server.get("socket") == str(self.socket(backup_id))

    def remove_checkpoint(self, dom: libvirt.virDomain | None, checkpoint: CheckpointRecord,
                          volumes: dict[str, list[Path]]) -> None:
        """Drop the checkpoint's bitmap from the disks: through libvirt while the VM runs
        (QEMU holds the images), with qemu-img from every volume of each chain otherwise."""
        if dom is not None:
            targets = _disk_targets(dom)
            present = {image: target for image, target in
                       ((i, _target_by_paths(paths, targets)) for i, paths in volumes.items())
                       if target is not None}
            try:
                _redefine(dom, checkpoint, present, targets)
                dom.checkpointLookupByName(checkpoint.id).delete(0)
            except libvirt.libvirtError as exc:
                raise HostAgentError(f"libvirt could not remove checkpoint {checkpoint.id}: "
                                     f"{exc.get_error_message()}") from None
            return
        for chain in volumes.values():
            for path in chain:
                if checkpoint.id in volume.bitmaps(path):
                    volume.remove_bitmap(path, checkpoint.id)

    def _directory(self, backup_id: str) -> Path:
        """The backup's own directory: QEMU makes the NBD socket and the scratch files in it
        (as its user under qemu:///system), and this service connects to the socket."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o711)
        directory = self.root / backup_id
        directory.mkdir()
        if self._system:
            user = qemu_user()
            os.chown(directory, user.uid, os.getegid())
            # setgid: the socket QEMU makes is in our group, which it lets connect
            directory.chmod(0o770 | stat.S_ISGID)
        return directory

    def _clean(self, dom: libvirt.virDomain, request: BackupStart, directory: Path) -> None:
        ids = tuple(i for i in (request.to_checkpoint_id,
                                request.from_checkpoint.id if request.from_checkpoint else None)
                    if i)
        _forget_checkpoints(dom, ids)
        shutil.rmtree(directory, ignore_errors=True)


def _modes(dom: libvirt.virDomain, request: BackupStart, chosen: dict[str, str],
           targets: dict[str, str]) -> dict[str, str]:
    """Incremental where the disk was in the checkpoint and QEMU still has its bitmap;
    full otherwise (a disk added since, a raw disk, a cold snapshot's new layer), as oVirt
    falls back disk by disk. Each disk's bitmap is checked by libvirt (a redefinition that
    validates it), then the checkpoint is defined with those that have it."""
    since = request.from_checkpoint
    modes = {d.image_id: FULL for d in request.disks}
    if since is None:
        return modes
    candidates = [d.image_id for d in request.disks
                  if d.format == "qcow2" and d.image_id in since.image_ids]
    valid = []
    for image in candidates:
        try:
            _redefine(dom, since, {image: chosen[image]}, targets, validate=True)
            valid.append(image)
        except libvirt.libvirtError as exc:
            log.info("disk %s has no bitmap of checkpoint %s (%s): a full backup of it",
                     image, since.id, exc.get_error_message())
        _forget_checkpoints(dom, (since.id,))
    if valid:
        _redefine(dom, since, {image: chosen[image] for image in valid}, targets)
    return {**modes, **{image: INCREMENTAL for image in valid}}


def _disk_targets(dom: libvirt.virDomain) -> dict[str, str]:
    """The domain's disks: target (vda...) -> the file QEMU has open."""
    try:
        root = SafeET.fromstring(dom.XMLDesc(0))
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"could not read the VM: {exc.get_error_message()}") from None
    found = {}
    for disk in root.findall("./devices/disk[@device='disk']"):
        target, source = disk.find("target"), disk.find("source")
        if target is not None and source is not None and source.get("file"):
            found[target.get("dev", "")] = source.get("file", "")
    return found


def _target_of(disk: BackupDisk, path: Path, targets: dict[str, str]) -> str:
    target = _target_by_paths([path], targets)
    if target is None:
        raise InvalidState(f"disk {disk.image_id} is not active in the running VM (it is "
                           "deactivated, or was attached after the VM started)")
    return target


def _target_by_paths(paths: list[Path], targets: dict[str, str]) -> str | None:
    wanted = {str(p) for p in paths}
    return next((t for t, source in targets.items() if source in wanted), None)


def _backup_xml(request: BackupStart, chosen: dict[str, str], modes: dict[str, str],
                targets: dict[str, str], directory: Path) -> str:
    root = ET.Element("domainbackup", mode="pull")
    if request.from_checkpoint is not None and INCREMENTAL in modes.values():
        ET.SubElement(root, "incremental").text = request.from_checkpoint.id
    ET.SubElement(root, "server", transport="unix", socket=str(directory / "nbd.sock"))
    disks = ET.SubElement(root, "disks")
    by_target = {target: image for image, target in chosen.items()}
    for target in targets:
        image = by_target.get(target)
        if image is None:
            ET.SubElement(disks, "disk", name=target, backup="no")
            continue
        disk = ET.SubElement(disks, "disk", name=target, backup="yes", type="file",
                             exportname=image, backupmode=modes[image])
        if modes[image] == INCREMENTAL and request.from_checkpoint is not None:
            disk.set("incremental", request.from_checkpoint.id)
        ET.SubElement(disk, "scratch", file=str(directory / f"{image}.scratch"))
    return ET.tostring(root, encoding="unicode")


def _checkpoint_xml(request: BackupStart, chosen: dict[str, str],
                    targets: dict[str, str]) -> str:
    root = ET.Element("domaincheckpoint")
    ET.SubElement(root, "name").text = request.to_checkpoint_id
    disks = ET.SubElement(root, "disks")
    qcow2 = {chosen[d.image_id] for d in request.disks if d.format == "qcow2"}
    for target in targets:
        if target in qcow2:
            ET.SubElement(disks, "disk", name=target, checkpoint="bitmap",
                          bitmap=str(request.to_checkpoint_id))
        else:
            ET.SubElement(disks, "disk", name=target, checkpoint="no")
    return ET.tostring(root, encoding="unicode")


def _redefine(dom: libvirt.virDomain, checkpoint: CheckpointRecord,
              chosen: dict[str, str], targets: dict[str, str], *,
              validate: bool = False) -> None:
    """libvirt learns of a checkpoint again from the engine's record (its bitmaps are in
    the volumes already); redefining one libvirt knows is harmless."""
    root = ET.Element("domaincheckpoint")
    ET.SubElement(root, "name").text = checkpoint.id
    ET.SubElement(root, "creationTime").text = str(int(checkpoint.created))
    disks = ET.SubElement(root, "disks")
    present = {target for image, target in chosen.items() if image in checkpoint.image_ids}
    for target in targets:
        if target in present:
            ET.SubElement(disks, "disk", name=target, checkpoint="bitmap", bitmap=checkpoint.id)
        else:
            ET.SubElement(disks, "disk", name=target, checkpoint="no")
    flags = libvirt.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE
    if validate:
        flags |= libvirt.VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE_VALIDATE
    dom.checkpointCreateXML(ET.tostring(root, encoding="unicode"), flags)


def _forget_checkpoints(dom: libvirt.virDomain, checkpoint_ids: tuple[str, ...]) -> None:
    for checkpoint_id in checkpoint_ids:
        try:
            dom.checkpointLookupByName(checkpoint_id).delete(
                libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY)
        except libvirt.libvirtError:
            continue  # not defined (the VM restarted, or it was never made)

