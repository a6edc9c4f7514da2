"""Volumes under a running QEMU, through libvirt: external snapshots (a new qcow2 top per
disk, optionally with the guest's memory), block commit, growing a disk and changing the
CD-ROM's medium.

Domains are transient, so libvirt keeps no snapshot metadata (``NO_METADATA``): the engine's
store is the only record of the chain, as in VDSM.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
import libvirt

from appliance.errors import HostAgentError
from appliance.vdsm.storage.domain import VolumeFile

COMMIT_TIMEOUT = 600.0
_POLL = 0.05


@dataclass(frozen=True)
class LayerFiles:
    """Freeze ``current`` (the disk's top) and continue on the new layer ``new`` above it."""

    current: VolumeFile
    new: VolumeFile


def snapshot(dom: libvirt.virDomain, layers: tuple[LayerFiles, ...], *,
             memory: Path | None) -> None:
    """One atomic external snapshot of the listed disks; with ``memory`` the guest's RAM is
    saved to that file too (the guest pauses briefly while it is written)."""
    targets = _targets_by_path(dom)
    root = ET.Element("domainsnapshot")
    ET.SubElement(root, "memory", ({"snapshot": "external", "file": str(memory)}
                                   if memory is not None else {"snapshot": "no"}))
    disks = ET.SubElement(root, "disks")
    covered = set()
    for layer in layers:
        target = targets.get(str(layer.current.path))
        if target is None:
            raise HostAgentError(f"volume {layer.current.id.volume_id} is not the top of any "
                                 "disk of the running VM")
        covered.add(target)
        disk = ET.SubElement(disks, "disk", name=target, snapshot="external", type="file")
        ET.SubElement(disk, "driver", type="qcow2")
        ET.SubElement(disk, "source", file=str(layer.new.path))
    for target in sorted(set(targets.values()) - covered):
        ET.SubElement(disks, "disk", name=target, snapshot="no")
    flags = (libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
             | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC)
    if memory is None:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
    else:
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_LIVE
    try:
        dom.snapshotCreateXML(ET.tostring(root, encoding="unicode"), flags)
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"libvirt could not snapshot the VM: "
                             f"{exc.get_error_message()}") from None
    for layer in layers:
        layer.new.path.chmod(0o644)
    if memory is not None:
        memory.chmod(0o644)


def block_commit(dom: libvirt.virDomain, *, top: VolumeFile, base: VolumeFile,
                 active: bool, timeout: float = COMMIT_TIMEOUT) -> None:
    """Merge ``top`` into ``base`` while the guest runs. When ``top`` is the active layer the
    job is pivoted, so the guest continues on ``base``; otherwise libvirt rebases the layer
    above ``top`` onto ``base``. Either way ``top`` is then unused and deleted."""
    target = _target_holding(dom, top)
    flags = libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE if active else 0
    try:
        dom.blockCommit(target, str(base.path), str(top.path), 0, flags)
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"libvirt could not start merging volume {top.id.volume_id}: "
                             f"{exc.get_error_message()}") from None
    deadline = time.monotonic() + timeout
    while True:
        info = dom.blockJobInfo(target, 0)
        if not info:
            break  # a non-active commit ends by itself
        if active and info["end"] > 0 and info["cur"] == info["end"]:
            try:
                dom.blockJobAbort(target, libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
            except libvirt.libvirtError as exc:
                if "not ready" in exc.get_error_message():
                    time.sleep(_POLL)
                    continue
                raise HostAgentError(f"libvirt could not pivot to volume {base.id.volume_id}: "
                                     f"{exc.get_error_message()}") from None
            _wait_gone(dom, target, deadline)
            break
        if time.monotonic() > deadline:
            dom.blockJobAbort(target, 0)
            raise HostAgentError(f"merging volume {top.id.volume_id} took longer than "
                                 f"{timeout:g} s and was cancelled")
        time.sleep(_POLL)
    top.path.unlink(missing_ok=True)


def block_resize(dom: libvirt.virDomain, top: VolumeFile, *, size: int) -> None:
    """Grow the running disk whose top volume is ``top`` to ``size`` bytes."""
    target = _target_holding(dom, top)
    try:
        dom.blockResize(target, size, libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
    except libvirt.libvirtError as exc:
        raise HostAgentError(f"libvirt could not grow disk {target}: "
                             f"{exc.get_error_message()}") from None


def change_media(dom: libvirt.virDomain, iso: Path | None) -> None:
    """The CD-ROM drive of the running domain with ``iso`` in it, or empty for ``None``.
    The drive's element is kept as it runs (target, address, boot order) but for its source:
    libvirt refuses a change of anything else."""
    drive = SafeET.fromstring(dom.XMLDesc(0)).find("devices/disk[@device='cdrom']")
    if drive is None:
        raise HostAgentError("the VM has no CD-ROM drive; it gets one at its next start")
    for old in drive.findall("source"):
        drive.remove(old)
    if iso is not None:
        source = ET.Element("source", file=str(iso))
        drive.insert(1, source)  # after <driver>, where libvirt writes it
    flags = libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_DEVICE_MODIFY_FORCE
    try:
        dom.updateDeviceFlags(ET.tostring(drive, encoding="unicode"), flags)
    except libvirt.libvirtError as exc:
        raise HostAgentError("libvirt could not change the CD-ROM: "
                             f"{exc.get_error_message()}") from None


def retarget_disks(saved_xml: str, tops: list[Path]) -> str:
    """A saved guest's domain XML with each disk on the given top volume of its image.

    Resuming a memory snapshot must keep the devices exactly as saved (addresses and all), so
    only the disks' sources change: to the new layer over the snapshot's volumes, which holds
    the same content the guest's RAM expects."""
    root = SafeET.fromstring(saved_xml)
    by_image = {top.parent: top for top in tops}
    for disk in root.iterfind("devices/disk[@device='disk']"):
        source = disk.find("source")
        if source is None or not source.get("file"):
            continue
        top = by_image.get(Path(source.get("file", "")).parent)
        if top is None:
            continue
        source.set("file", str(top))
        for backing in disk.findall("backingStore"):
            disk.remove(backing)  # libvirt reads the new chain from the images
    return ET.tostring(root, encoding="unicode")


def _wait_gone(dom: libvirt.virDomain, target: str, deadline: float) -> None:
    while dom.blockJobInfo(target, 0) and time.monotonic() < deadline:
        time.sleep(_POLL)


def _targets_by_path(dom: libvirt.virDomain) -> dict[str, str]:
    """Top volume path -> disk target (vda...) of the running domain's disks."""
    root = SafeET.fromstring(dom.XMLDesc(0))
    found = {}
    for disk in root.iterfind("devices/disk[@device='disk']"):
        source = disk.find("source")
        target = disk.find("target")
        if source is not None and target is not None and source.get("file"):
            found[source.get("file", "")] = target.get("dev", "")
    return found


def _target_holding(dom: libvirt.virDomain, ref: VolumeFile) -> str:
    """The disk whose chain contains the image of ``ref``: volumes of one image are one disk."""
    for path, target in _targets_by_path(dom).items():
        if Path(path).parent == ref.path.parent:
            return target
    raise HostAgentError(f"image {ref.id.image_id} is not a disk of the running VM")
