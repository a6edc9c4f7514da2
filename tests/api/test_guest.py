"""The whole SDK flow on a guest that really boots: a VM from the "Demo" template (the
stick's demo guest imported at start) comes up, prints its marker on the serial console,
shuts down through ACPI, and has snapshots taken and removed."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance
from tests.api.test_sdk import wait_status

READY = "VIRTSTICK-GUEST-READY"
BOOT_TIMEOUT = 180.0  # TCG on a shared, loaded machine

pytestmark = pytest.mark.slow


def _wait_for_marker(log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and READY in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise AssertionError(f"no {READY} within {timeout} s; console said:\n{text}")


def test_demo_guest_boots_shuts_down_and_snapshots(appliance: Appliance, admin: sdk.Connection,
                                                    demo_template: types.Template) -> None:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=f"guest-{secrets.token_hex(3)}",
                          cluster=types.Cluster(name="Default"),
                          template=types.Template(id=demo_template.id)))
    service = vms.vm_service(vm.id)
    attachments = service.disk_attachments_service().list()
    assert len(attachments) == 1 and attachments[0].bootable
    service.start()
    wait_status(service, types.VmStatus.UP)
    _wait_for_marker(appliance.state_dir / "consoles" / f"{vm.id}.log", BOOT_TIMEOUT)
    snapshots = service.snapshots_service()
    live = snapshots.add(types.Snapshot(description="while-running"))
    assert live.snapshot_status == types.SnapshotStatus.OK
    assert live.persist_memorystate  # oVirt's default for a running VM: its memory too
    assert service.get().status == types.VmStatus.UP
    service.shutdown()
    wait_status(service, types.VmStatus.DOWN, timeout=120)

    taken = snapshots.add(types.Snapshot(description="after-first-boot"))
    assert [s.description for s in snapshots.list()] == [
        "Active VM", "while-running", "after-first-boot"]
    snapshots.snapshot_service(taken.id).remove()
    snapshots.snapshot_service(live.id).remove()
    assert len(snapshots.list()) == 1
    service.remove()
    with pytest.raises(sdk.NotFoundError):
        service.get()
