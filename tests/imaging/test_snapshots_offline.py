"""Snapshots of a VM that is down: the volume chain and what each state shows, read through
qemu-io (no guest needed)."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import DiskFormat, JobStatus, SnapshotStatus, SnapshotType
from appliance.engine.model import MiB, Template
from appliance.engine.storage import DiskCreate, DiskUpdate
from appliance.engine.vms import VmCreate
from appliance.errors import InvalidState
from tests.imaging.conftest import Lab, pattern_at, qemu_io

OFFSET = 1024 * 1024  # away from the template's data


def test_snapshot_restore_drops_later_writes(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("snap", data_template)
    snaps = lab.engine.snapshots
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    first = snaps.create(vm.id, description="first", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x33 {OFFSET} 64k")
    second = snaps.create(vm.id, description="second", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x44 {OFFSET} 64k")
    assert pattern_at(lab.volume_path(vm.id), OFFSET, 0x44)

    snaps.restore(vm.id, first.id, actor=SYSTEM)

    top = lab.volume_path(vm.id)
    assert pattern_at(top, OFFSET, 0x22)
    assert pattern_at(top, 0, 0x11)  # the template's data shows through
    remaining = snaps.list(vm.id, actor=SYSTEM)
    assert [s.id for s in remaining] == [first.id]
    assert second.id not in {s.id for s in remaining}
    chain_files = {p.name for p in top.parent.iterdir()}
    known = {v.id for v in lab.engine.ctx.store.volumes.where(disk_id=top.parent.name)}
    assert chain_files == known  # nothing left behind on disk


def test_preview_then_undo_returns_to_latest(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("prev", data_template)
    snaps = lab.engine.snapshots
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    snap = snaps.create(vm.id, description="s", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x33 {OFFSET} 64k")

    previewed = snaps.preview(vm.id, snap.id, actor=SYSTEM)
    assert previewed.status is SnapshotStatus.IN_PREVIEW
    assert any(s.type is SnapshotType.PREVIEW for s in snaps.list(vm.id, actor=SYSTEM))
    assert pattern_at(lab.volume_path(vm.id), OFFSET, 0x22)
    with pytest.raises(InvalidState):
        snaps.create(vm.id, description="during preview", actor=SYSTEM)

    snaps.undo(vm.id, actor=SYSTEM)
    assert pattern_at(lab.volume_path(vm.id), OFFSET, 0x33)
    assert [s.status for s in snaps.list(vm.id, actor=SYSTEM)] == [SnapshotStatus.OK]


def test_preview_then_commit_keeps_the_snapshot_state(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("commit", data_template)
    snaps = lab.engine.snapshots
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    snap = snaps.create(vm.id, description="s", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x33 {OFFSET} 64k")
    snaps.preview(vm.id, snap.id, actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x55 {2 * OFFSET} 64k")  # written in preview
    snaps.commit(vm.id, actor=SYSTEM)
    top = lab.volume_path(vm.id)
    assert pattern_at(top, OFFSET, 0x22)
    assert pattern_at(top, 2 * OFFSET, 0x55)
    assert [s.id for s in snaps.list(vm.id, actor=SYSTEM)] == [snap.id]


def test_remove_snapshot_while_down_merges_layers(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("merge", data_template)
    snaps = lab.engine.snapshots
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    first = snaps.create(vm.id, description="first", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x33 {2 * OFFSET} 64k")
    second = snaps.create(vm.id, description="second", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x44 {3 * OFFSET} 64k")
    disk_id = lab.volume_path(vm.id).parent.name
    assert len(lab.engine.ctx.store.volumes.where(disk_id=disk_id)) == 3

    snaps.remove(vm.id, first.id, actor=SYSTEM)  # merges a middle layer

    assert len(lab.engine.ctx.store.volumes.where(disk_id=disk_id)) == 2
    for offset, byte in ((OFFSET, 0x22), (2 * OFFSET, 0x33), (3 * OFFSET, 0x44), (0, 0x11)):
        assert pattern_at(lab.volume_path(vm.id), offset, byte)
    snaps.restore(vm.id, second.id, actor=SYSTEM)  # the later snapshot still works
    assert pattern_at(lab.volume_path(vm.id), 2 * OFFSET, 0x33)
    assert not pattern_at(lab.volume_path(vm.id), 3 * OFFSET, 0x44)
    snaps.remove(vm.id, second.id, actor=SYSTEM)  # merges the active layer
    assert len(lab.engine.ctx.store.volumes.where(disk_id=disk_id)) == 1
    assert pattern_at(lab.volume_path(vm.id), OFFSET, 0x22)


def test_a_raw_disk_with_a_snapshot_is_cloned_and_exported_with_its_data(
        lab: Lab, tmp_path: Path) -> None:
    """Once it has a snapshot, a raw disk's top is a qcow2 layer: copied as raw (the disk's
    format), the clone and the OVA held that layer's bytes instead of the guest's data."""
    engine = lab.engine
    vm = engine.vms.create(VmCreate(name=f"{lab.prefix}rawsnap", memory=64 * MiB,
                                    cluster_id=engine.clusters.default().id), actor=SYSTEM)
    domain = engine.storage_domains.default()
    engine.vms.attach_new_disk(vm.id, DiskCreate(name="raw1", provisioned_size=4 * MiB,
                                                 storage_domain_id=domain.id,
                                                 format=DiskFormat.RAW), actor=SYSTEM,
                               bootable=True)
    qemu_io(lab.volume_path(vm.id), "write -P 0x5a 0 64k", fmt="raw")
    engine.snapshots.create(vm.id, description="kept", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x6b {OFFSET} 64k")  # on the qcow2 layer

    clone, job = engine.vm_clones.clone(vm.id, name=f"{lab.prefix}rawclone", actor=SYSTEM)
    assert engine.jobs.wait(job.id, 120).status is JobStatus.FINISHED
    copied = lab.volume_path(clone.id)
    assert pattern_at(copied, 0, 0x5a) and pattern_at(copied, OFFSET, 0x6b)

    tmp_path.chmod(0o755)
    job = engine.ova_exporter.export_vm(vm.id, directory=str(tmp_path), filename="raw.ova",
                                        actor=SYSTEM)
    assert engine.jobs.wait(job.id, 120).status is JobStatus.FINISHED
    with tarfile.open(tmp_path / "raw.ova") as ova:
        [member] = [m for m in ova.getmembers() if m.name != "vm.ovf"]
        ova.extract(member, tmp_path, filter="data")
    exported = tmp_path / member.name
    assert pattern_at(exported, 0, 0x5a) and pattern_at(exported, OFFSET, 0x6b)


def test_a_raw_disk_with_a_snapshot_grows(lab: Lab) -> None:
    """Resized as raw (the disk's format), its qcow2 top only had its file lengthened: the
    guest kept the old size."""
    engine = lab.engine
    vm = engine.vms.create(VmCreate(name=f"{lab.prefix}rawgrow", memory=64 * MiB,
                                    cluster_id=engine.clusters.default().id), actor=SYSTEM)
    attachment = engine.vms.attach_new_disk(vm.id, DiskCreate(
        name="raw2", provisioned_size=4 * MiB, format=DiskFormat.RAW,
        storage_domain_id=engine.storage_domains.default().id), actor=SYSTEM, bootable=True)
    engine.snapshots.create(vm.id, description="kept", actor=SYSTEM)
    engine.disks.update(attachment.disk_id, DiskUpdate(provisioned_size=8 * MiB),
                        actor=SYSTEM)
    info = subprocess.run(["qemu-img", "info", "--output=json", "-U", "-f", "qcow2",
                           str(lab.volume_path(vm.id))], capture_output=True, text=True,
                          check=True)
    assert json.loads(info.stdout)["virtual-size"] == 8 * MiB
