"""Snapshots of a VM that is down: the volume chain and what each state shows, read through
qemu-io (no guest needed)."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import SnapshotStatus, SnapshotType
from appliance.engine.model import Template
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
