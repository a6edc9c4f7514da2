"""A VM made from a snapshot, as clone_vm_from_snapshot asks for it through the SDK: POST /vms
with ``<snapshots><snapshot id/></snapshots>`` gives a VM whose disks hold what the snapshot
froze, not what the source wrote after it, nor an empty VM from Blank."""

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

MiB = 1024 * 1024


@pytest.fixture
def source(admin: sdk.Connection) -> Iterator[types.Vm]:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("snapsrc"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank"), memory=96 * MiB,
                          description="the source"))
    vms.vm_service(vm.id).disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=32 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True))
    yield vm
    with contextlib.suppress(sdk.NotFoundError):
        vms.vm_service(vm.id).remove()


def _top_volume(admin: sdk.Connection, vm_id: str) -> Path:
    """Where the host keeps the VM's disk's top volume (VDSM's layout)."""
    system = admin.system_service()
    [attachment] = system.vms_service().vm_service(vm_id).disk_attachments_service().list()
    disk = system.disks_service().disk_service(attachment.disk.id).get()
    domain = system.storage_domains_service().storage_domain_service(
        disk.storage_domains[0].id).get()
    return Path(domain.storage.path, domain.id, "images", disk.id, disk.image_id)


def _qemu_io(path: Path, command: str) -> bool:
    share = ["-r", "-U"] if command.startswith("read") else []  # reads share the lock
    result = subprocess.run(["qemu-io", *share, "-c", command, str(path)],
                            capture_output=True, text=True, check=False)
    return result.returncode == 0 and "fail" not in result.stdout.lower()


def test_a_vm_from_a_snapshot_has_the_snapshots_disks(admin: sdk.Connection,
                                                      source: types.Vm) -> None:
    vms = admin.system_service().vms_service()
    service = vms.vm_service(source.id)
    assert _qemu_io(_top_volume(admin, source.id), "write -P 0xaa 0 1M")
    snapshot = service.snapshots_service().add(types.Snapshot(description="mysnap"))
    assert _qemu_io(_top_volume(admin, source.id), "write -P 0xbb 0 1M")  # after it

    made = vms.add(types.Vm(name=unique("fromsnap"), cluster=types.Cluster(name="Default"),
                            snapshots=[types.Snapshot(id=snapshot.id)]))
    clone = vms.vm_service(made.id)
    try:
        assert made.status == types.VmStatus.IMAGE_LOCKED  # its disks are being copied
        deadline = time.monotonic() + 120
        while clone.get().status != types.VmStatus.DOWN and time.monotonic() < deadline:
            time.sleep(0.5)  # the example's own wait
        got = clone.get()
        assert got.status == types.VmStatus.DOWN
        assert (got.memory, got.description) == (96 * MiB, "the source")
        [attachment] = clone.disk_attachments_service().list()
        assert attachment.bootable is True
        assert attachment.disk.id not in [a.disk.id for a in
                                          service.disk_attachments_service().list()]
        copy = _top_volume(admin, made.id)
        assert _qemu_io(copy, "read -P 0xaa 0 1M")  # what the snapshot froze
        assert _qemu_io(_top_volume(admin, source.id), "read -P 0xbb 0 1M")
        snap = service.snapshots_service().snapshot_service(snapshot.id).get()
        assert snap.snapshot_status == types.SnapshotStatus.OK  # unlocked again
    finally:
        with contextlib.suppress(sdk.NotFoundError):
            clone.remove()


def test_an_unknown_snapshot_is_not_found(admin: sdk.Connection) -> None:
    vms = admin.system_service().vms_service()
    with pytest.raises(sdk.NotFoundError):
        vms.add(types.Vm(name=unique("fromsnap"), cluster=types.Cluster(name="Default"),
                         snapshots=[types.Snapshot(id="no-such-snapshot")]))


def test_clone_copies_a_down_vms_disks(admin: sdk.Connection, source: types.Vm) -> None:
    """The clone action beside it: the source is locked while its disks are copied."""
    vms = admin.system_service().vms_service()
    service = vms.vm_service(source.id)
    assert _qemu_io(_top_volume(admin, source.id), "write -P 0xcc 0 1M")
    name = unique("clone")
    service.clone(vm=types.Vm(name=name))
    [made] = vms.list(search=f"name={name}")
    clone = vms.vm_service(made.id)
    try:
        deadline = time.monotonic() + 120
        while clone.get().status != types.VmStatus.DOWN and time.monotonic() < deadline:
            time.sleep(0.5)
        assert clone.get().status == types.VmStatus.DOWN
        assert service.get().status == types.VmStatus.DOWN
        assert _qemu_io(_top_volume(admin, made.id), "read -P 0xcc 0 1M")
    finally:
        with contextlib.suppress(sdk.NotFoundError):
            clone.remove()
