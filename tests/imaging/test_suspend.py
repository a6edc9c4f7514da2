"""Suspend to disk with a real guest (the demo guest under QEMU TCG): the guest's state is
saved into a memory disk and QEMU ends; starting restores it and the guest goes on where it
was (its counter runs on, it does not boot); stopping a suspended VM discards the state."""

from __future__ import annotations

import time

import libvirt
import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import DiskContentType, VmStatus
from tests.imaging.conftest import GuestLab, read_marker, write_marker

pytestmark = pytest.mark.slow


def _domain_exists(lab: GuestLab, vm_id: str) -> bool:
    conn = libvirt.open(lab.engine.config.appliance.libvirt_uri)
    try:
        conn.lookupByUUIDString(vm_id)
        return True
    except libvirt.libvirtError:
        return False
    finally:
        conn.close()


def test_suspend_saves_the_guest_and_start_resumes_it(guest_lab: GuestLab) -> None:
    engine, store = guest_lab.engine, guest_lab.engine.ctx.store
    vm = guest_lab.vm("susp", guest_lab.demo)
    console = guest_lab.start(vm)
    write_marker(console, "before-suspend")
    console.send("counter on")
    console.wait_for(r"^VIRTSTICK-COUNTER=\d+", 30)

    job = engine.suspensions.suspend(vm.id, actor=SYSTEM)
    engine.jobs.wait(job.id, timeout=120)
    suspended = store.vms.get(vm.id)
    assert (suspended.status, suspended.host_id) == (VmStatus.SUSPENDED, None)
    assert not _domain_exists(guest_lab, vm.id)  # no QEMU holds its memory now
    saved = store.disks.get(suspended.saved_state_disk_id)
    assert saved.content_type is DiskContentType.MEMORY_DUMP
    assert engine.disks.sizes(saved).actual > 1024 * 1024  # the guest's RAM was written

    console = guest_lab.console(vm)
    console.wait_for(r"(?s)\A.*", 0)
    before = len(console.output())
    engine.vms.start_or_resume(vm.id, actor=SYSTEM)
    console.wait_for(r"^VIRTSTICK-COUNTER=\d+", 30)  # it runs on: restored, not booted
    assert "VIRTSTICK-GUEST-READY" not in console.output()[before:]
    console.send("counter off")
    console.wait_for(r"^VIRTSTICK-COUNTER-STATE=off", 30)
    assert read_marker(console) == "before-suspend"
    resumed = store.vms.get(vm.id)
    assert resumed.status is VmStatus.UP and not resumed.saved_state_disk_id
    assert store.disks.find(saved.id) is None  # the saved state went with the resume
    console.send("marker read")  # the guest's ACPI still answers after the restore
    engine.vms.shutdown(vm.id, actor=SYSTEM)
    console.wait_for(r"Power down", 60)
    deadline = time.monotonic() + 60
    while store.vms.get(vm.id).status is not VmStatus.DOWN:
        assert time.monotonic() < deadline, store.vms.get(vm.id).status
        time.sleep(0.2)
    console = guest_lab.start(vm)

    job = engine.suspensions.suspend(vm.id, actor=SYSTEM)
    engine.jobs.wait(job.id, timeout=120)
    again = store.vms.get(vm.id)
    assert again.status is VmStatus.SUSPENDED
    engine.vms.stop(vm.id, actor=SYSTEM)  # throws the saved state away
    stopped = store.vms.get(vm.id)
    assert stopped.status is VmStatus.DOWN and not stopped.saved_state_disk_id
    assert store.disks.find(again.saved_state_disk_id) is None
    console = guest_lab.start(vm)  # a plain boot
    assert read_marker(console) == "before-suspend"
    guest_lab.stop(vm)
