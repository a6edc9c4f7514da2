"""``POST /disks/{id}/sparsify`` through the SDK, as sparsify_disk sends it: the zeroed
blocks a disk holds go back to the storage domain, in a job that keeps the disk locked, and
the guest reads exactly what it read before (``qemu-img compare``); oVirt's refusals."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique
from tests.api.test_sdk import wait_status

MiB = 1024 * 1024


@pytest.fixture
def disks(admin: sdk.Connection) -> Iterator[list[types.Disk]]:
    made: list[types.Disk] = []
    yield made
    service = admin.system_service().disks_service()
    for disk in made:
        with contextlib.suppress(sdk.NotFoundError):
            service.disk_service(disk.id).remove()


def _new_disk(admin: sdk.Connection, disks: list[types.Disk], *, size: int = 256 * MiB,
              sparse: bool = True) -> types.Disk:
    service = admin.system_service().disks_service()
    disk = service.add(types.Disk(name=unique("sp"), provisioned_size=size, sparse=sparse,
                                  format=types.DiskFormat.COW if sparse else
                                  types.DiskFormat.RAW,
                                  storage_domains=[types.StorageDomain(name="ram")]))
    disks.append(disk)
    return disk


def _volume(admin: sdk.Connection, disk_id: str) -> Path:
    system = admin.system_service()
    disk = system.disks_service().disk_service(disk_id).get()
    domain = system.storage_domains_service().storage_domain_service(
        disk.storage_domains[0].id).get()
    return Path(domain.storage.path, domain.id, "images", disk.id, disk.image_id)


def _wait_ok(service: sdk.services.DiskService) -> types.Disk:
    deadline = time.monotonic() + 60
    while (disk := service.get()).status != types.DiskStatus.OK:
        assert time.monotonic() < deadline, f"the disk stays {disk.status}"
        time.sleep(0.2)
    return disk


def test_sparsify_frees_zeroed_blocks_and_keeps_the_data(admin: sdk.Connection,
                                                         disks: list[types.Disk],
                                                         tmp_path: Path) -> None:
    disk = _new_disk(admin, disks)
    volume = _volume(admin, disk.id)
    # what a guest leaves: data, blocks it zeroed (written, so allocated), data again
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64M",
                    "-c", "write -P 0 64M 160M", "-c", "write -P 0xa5 224M 16M",
                    str(volume)], check=True, capture_output=True)
    reference = tmp_path / "before.raw"
    subprocess.run(["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(volume),
                    str(reference)], check=True)
    service = admin.system_service().disks_service().disk_service(disk.id)
    before = int(service.get().actual_size)
    assert before > 230 * MiB

    service.sparsify()
    assert service.get().status == types.DiskStatus.LOCKED  # while the job runs
    after = int(_wait_ok(service).actual_size)

    assert after < 90 * MiB, "the 160 MiB of zeroes went back to the domain"
    subprocess.run(["qemu-img", "compare", "-f", "raw", "-F", "qcow2", str(reference),
                    str(volume)], check=True, capture_output=True)  # the same bytes
    events = admin.system_service().events_service().list(max=20)
    codes = [e.code for e in events if disk.name in (e.description or "")]
    assert 1325 in codes and 1326 in codes  # oVirt's start and finish events


def test_sparsify_refusals_as_ovirt_gives_them(admin: sdk.Connection, disks: list[types.Disk],
                                               demo_template: types.Template) -> None:
    system = admin.system_service()
    preallocated = _new_disk(admin, disks, size=16 * MiB, sparse=False)
    with pytest.raises(sdk.Error) as thick:
        system.disks_service().disk_service(preallocated.id).sparsify()
    assert "thin provisioned disks only" in str(thick.value)

    vms = system.vms_service()
    vm = vms.add(types.Vm(name=unique("sp"), cluster=types.Cluster(name="Default"),
                          template=types.Template(id=demo_template.id)))
    try:
        vm_service = vms.vm_service(vm.id)
        wait_status(vm_service, types.VmStatus.DOWN)
        [attachment] = vm_service.disk_attachments_service().list()
        disk_service = system.disks_service().disk_service(attachment.disk.id)
        vm_service.start()
        wait_status(vm_service, types.VmStatus.UP)
        with pytest.raises(sdk.Error) as running:
            disk_service.sparsify()
        assert running.value.code == 409 and "while its VMs are down" in str(running.value)
        vm_service.stop()
        wait_status(vm_service, types.VmStatus.DOWN)
        snapshot = vm_service.snapshots_service().add(types.Snapshot(description="s1"))
        snapshots = vm_service.snapshots_service().snapshot_service(snapshot.id)
        deadline = time.monotonic() + 60
        while snapshots.get().snapshot_status != types.SnapshotStatus.OK:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        with pytest.raises(sdk.Error) as layered:
            disk_service.sparsify()
        assert layered.value.code == 409 and "has snapshots" in str(layered.value)
        # the template's disk: its VMs lie over it
        template_disk = system.disks_service().list(search="name=Demo*")
        base = [d for d in template_disk if d.template is not None]
        assert base
        with pytest.raises(sdk.Error) as shared:
            system.disks_service().disk_service(base[0].id).sparsify()
        assert shared.value.code == 409 and "base of other disks" in str(shared.value)
    finally:
        with contextlib.suppress(sdk.Error):
            vms.vm_service(vm.id).stop()
        vms.vm_service(vm.id).remove()
