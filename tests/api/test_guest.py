"""The whole SDK flow on a guest that really boots: a VM from the "Demo" template (the
stick's demo guest imported at start) comes up, prints its marker on the serial console,
shuts down through ACPI, and has snapshots taken and removed."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, start_appliance, stop_appliance
from tests.api.test_sdk import wait_status

REPO_ROOT = Path(__file__).resolve().parents[2]
READY = "VIRTSTICK-GUEST-READY"
BOOT_TIMEOUT = 180.0  # TCG on a shared, loaded machine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_appliance() -> Iterator[Appliance]:
    from appliance.demoguest import build

    disk = build(REPO_ROOT / ".cache" / "demoguest").disk
    base = Path(tempfile.mkdtemp(prefix="vs-api-guest-", dir="/var/tmp"))
    base.chmod(0o755)
    prefix = f"vsapig{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix,
                                       appliance={"demo_disk": str(disk)})
    try:
        yield running
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


def _wait_for_template(connection: sdk.Connection, name: str) -> types.Template:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = connection.system_service().templates_service().list(search=f"name={name}")
        if found and found[0].status == types.TemplateStatus.OK:
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"template {name} was not imported")


def _wait_for_marker(log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and READY in log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    text = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise AssertionError(f"no {READY} within {timeout} s; console said:\n{text}")


def test_demo_guest_boots_shuts_down_and_snapshots(demo_appliance: Appliance) -> None:
    connection = demo_appliance.connect()
    vms = connection.system_service().vms_service()
    try:
        template = _wait_for_template(connection, "Demo")
        vm = vms.add(types.Vm(name=f"guest-{secrets.token_hex(3)}",
                              cluster=types.Cluster(name="Default"),
                              template=types.Template(id=template.id)))
        service = vms.vm_service(vm.id)
        attachments = service.disk_attachments_service().list()
        assert len(attachments) == 1 and attachments[0].bootable
        service.start()
        wait_status(service, types.VmStatus.UP)
        _wait_for_marker(demo_appliance.state_dir / "consoles" / f"{vm.id}.log", BOOT_TIMEOUT)
        snapshots = service.snapshots_service()
        live = snapshots.add(types.Snapshot(description="while-running"))
        assert live.snapshot_status == types.SnapshotStatus.OK
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
    finally:
        connection.close()
