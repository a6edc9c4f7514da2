"""Snapshots through the SDK: add, list, remove on a down VM with a real qcow2 chain."""

from __future__ import annotations

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique

MiB = 1024 * 1024


def test_snapshot_add_list_remove(admin: sdk.Connection) -> None:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("snap"), template=types.Template(name="Blank"),
                          cluster=types.Cluster(name="Default"), memory=64 * MiB))
    service = vms.vm_service(vm.id)
    try:
        service.disk_attachments_service().add(types.DiskAttachment(
            disk=types.Disk(name=f"{vm.name}_d", provisioned_size=64 * MiB,
                            format=types.DiskFormat.COW,
                            storage_domains=[types.StorageDomain(name="ram")]),
            interface=types.DiskInterface.VIRTIO, bootable=True, active=True))
        snapshots = service.snapshots_service()
        taken = snapshots.add(types.Snapshot(description="before-upgrade",
                                             persist_memorystate=False))
        assert taken.snapshot_status == types.SnapshotStatus.OK
        listed = snapshots.list()
        assert [s.snapshot_type for s in listed] == [types.SnapshotType.ACTIVE,
                                                     types.SnapshotType.REGULAR]
        assert listed[1].description == "before-upgrade"
        assert snapshots.snapshot_service(taken.id).get().id == taken.id
        with pytest.raises(sdk.Error) as refused:
            snapshots.snapshot_service(vm.id).remove()
        assert refused.value.code == 409
        snapshots.snapshot_service(taken.id).remove()
        assert [s.snapshot_type for s in snapshots.list()] == [types.SnapshotType.ACTIVE]
        with pytest.raises(sdk.NotFoundError):
            snapshots.snapshot_service(taken.id).get()
    finally:
        service.remove()
