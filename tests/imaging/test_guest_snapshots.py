"""Templates and snapshots with a real guest (the demo guest under QEMU TCG)."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import VmStatus
from tests.imaging.conftest import GuestLab, read_marker, write_marker

pytestmark = pytest.mark.slow


def test_thin_vm_from_template_boots_and_restore_drops_marker(guest_lab: GuestLab) -> None:
    vm = guest_lab.vm("thin", guest_lab.demo)
    console = guest_lab.start(vm)  # boots: the serial marker READY came
    write_marker(console, "before")
    snap = guest_lab.engine.snapshots.create(vm.id, description="live", actor=SYSTEM)
    write_marker(console, "after")
    assert read_marker(console) == "after"
    guest_lab.stop(vm)

    guest_lab.engine.snapshots.restore(vm.id, snap.id, actor=SYSTEM)
    console = guest_lab.start(vm)
    assert read_marker(console) == "before"


def test_live_snapshot_delete_keeps_guest_running(guest_lab: GuestLab) -> None:
    vm = guest_lab.vm("merge", guest_lab.demo)
    console = guest_lab.start(vm)
    store = guest_lab.engine.ctx.store
    disk_id = store.attachments.where(vm_id=vm.id)[0].disk_id
    first = guest_lab.engine.snapshots.create(vm.id, description="one", actor=SYSTEM)
    write_marker(console, "m1")
    second = guest_lab.engine.snapshots.create(vm.id, description="two", actor=SYSTEM)
    write_marker(console, "m2")
    assert len(store.volumes.where(disk_id=disk_id)) == 3

    guest_lab.engine.snapshots.remove(vm.id, first.id, actor=SYSTEM)  # a middle layer
    assert read_marker(console) == "m2"
    guest_lab.engine.snapshots.remove(vm.id, second.id, actor=SYSTEM)  # the active layer
    assert read_marker(console) == "m2"
    write_marker(console, "m3")  # the guest writes on after the pivot
    assert store.vms.get(vm.id).status is VmStatus.UP
    assert len(store.volumes.where(disk_id=disk_id)) == 1
    assert guest_lab.engine.snapshots.list(vm.id, actor=SYSTEM) == []
    guest_lab.stop(vm)
    console = guest_lab.start(vm)
    assert read_marker(console) == "m3"


def test_snapshot_with_memory_saves_ram(guest_lab: GuestLab) -> None:
    vm = guest_lab.vm("mem", guest_lab.demo)
    console = guest_lab.start(vm)
    snap = guest_lab.engine.snapshots.create(vm.id, description="mem", persist_memory=True,
                                             actor=SYSTEM)
    assert snap.persist_memorystate and snap.memory_disk_id
    memory = guest_lab.engine.ctx.store.disks.get(snap.memory_disk_id)
    sizes = guest_lab.engine.disks.sizes(memory)
    assert sizes.actual > 1024 * 1024  # the guest's RAM was written
    write_marker(console, "still-running")
    guest_lab.engine.snapshots.remove(vm.id, snap.id, actor=SYSTEM)
    assert guest_lab.engine.ctx.store.disks.find(snap.memory_disk_id) is None



def test_memory_snapshot_preview_resumes_the_guest(guest_lab: GuestLab) -> None:
    """With restore_memory the guest is not booted again: it continues where the snapshot
    was taken, its counter still running, on the snapshot's disks."""
    vm = guest_lab.vm("resume", guest_lab.demo)
    console = guest_lab.start(vm)
    write_marker(console, "at-snapshot")
    console.send("counter on")
    console.wait_for(r"^VIRTSTICK-COUNTER=\d+", 30)
    snap = guest_lab.engine.snapshots.create(vm.id, description="ram", persist_memory=True,
                                             actor=SYSTEM)
    console.send("counter off")
    console.wait_for(r"^VIRTSTICK-COUNTER-STATE=off", 30)
    write_marker(console, "later")
    guest_lab.stop(vm)

    guest_lab.engine.snapshots.preview(vm.id, snap.id, actor=SYSTEM, restore_memory=True)
    console = guest_lab.console(vm)
    console.wait_for(r"(?s)\A.*", 0)
    before = len(console.output())
    guest_lab.engine.vms.start(vm.id, actor=SYSTEM)
    console.wait_for(r"^VIRTSTICK-COUNTER=\d+", 30)  # the counter runs on: no boot
    assert "VIRTSTICK-GUEST-READY" not in console.output()[before:]
    console.send("counter off")
    console.wait_for(r"^VIRTSTICK-COUNTER-STATE=off", 30)
    assert read_marker(console) == "at-snapshot"
    guest_lab.stop(vm)
    guest_lab.engine.snapshots.undo(vm.id, actor=SYSTEM)
    console = guest_lab.start(vm)  # a plain boot again, on the latest disks
    assert read_marker(console) == "later"
