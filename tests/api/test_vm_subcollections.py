"""The VM sub-collections oVirt's clients follow, through the SDK: empty lists where a VM has
none of these (ovirt_vm reads numanodes, watchdogs and hostdevices after every change), a
single permission, and a snapshot's disks as they were when it was taken."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique

MiB = 1024 * 1024


@pytest.fixture
def vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    vms = admin.system_service().vms_service()
    made = vms.add(types.Vm(name=unique("sub"), cluster=types.Cluster(name="Default"),
                            template=types.Template(name="Blank"), memory=128 * MiB))
    yield made
    with contextlib.suppress(sdk.NotFoundError):
        vms.vm_service(made.id).remove()


def test_devices_and_guest_reports_are_empty_lists(admin: sdk.Connection,
                                                   vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(vm.id)
    for collection in (service.numa_nodes_service(), service.watchdogs_service(),
                       service.host_devices_service(), service.mediated_devices_service(),
                       service.reported_devices_service(), service.sessions_service(),
                       service.applications_service(), service.katello_errata_service(),
                       service.tags_service(), service.affinity_labels_service(),
                       service.backups_service(), service.checkpoints_service()):
        assert collection.list() == [], collection
    with pytest.raises(sdk.NotFoundError):
        service.numa_nodes_service().node_service("0").get()
    with pytest.raises(sdk.NotFoundError):
        service.checkpoints_service().checkpoint_service("no-such").get()
    # the VM links to them, and the links lead there (as ovirt_vm follows them)
    got = service.get()
    for link in (got.numa_nodes, got.watchdogs, got.host_devices, got.reported_devices,
                 got.tags, got.affinity_labels, got.sessions, got.applications):
        assert admin.follow_link(link) == []


def test_sub_collections_of_an_unknown_vm_are_not_found(admin: sdk.Connection) -> None:
    service = admin.system_service().vms_service().vm_service("no-such-vm")
    with pytest.raises(sdk.NotFoundError):
        service.numa_nodes_service().list()
    with pytest.raises(sdk.NotFoundError):
        service.reported_devices_service().list()


def test_one_permission_of_a_vm(admin: sdk.Connection, vm: types.Vm) -> None:
    system = admin.system_service()
    user = system.users_service().add(types.User(
        user_name=unique("perm") + "@internal", password="Secret-pass-1"))
    try:
        permissions = system.vms_service().vm_service(vm.id).permissions_service()
        given = permissions.add(types.Permission(role=types.Role(name="UserRole"),
                                                 user=types.User(id=user.id)))
        one = permissions.permission_service(given.id).get()  # ovirt_permission waits on it
        assert (one.id, one.user.id, one.role.id, one.vm.id) == (
            given.id, user.id, given.role.id, vm.id)
        with pytest.raises(sdk.NotFoundError):
            permissions.permission_service("no-such").get()
        permissions.permission_service(given.id).remove()
        with pytest.raises(sdk.NotFoundError):
            permissions.permission_service(given.id).get()
    finally:
        system.users_service().user_service(user.id).remove()


def test_a_snapshots_disks_are_its_volumes(admin: sdk.Connection, vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(vm.id)
    attachment = service.disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=64 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True))
    snapshots = service.snapshots_service()
    snapshot = snapshots.add(types.Snapshot(description="before"))
    then = snapshots.snapshot_service(snapshot.id).disks_service().list()
    assert [d.id for d in then] == [attachment.disk.id]
    assert then[0].storage_domains[0].id and then[0].alias == f"{vm.name}_d"
    active = next(s for s in snapshots.list() if s.snapshot_type == types.SnapshotType.ACTIVE)
    now = snapshots.snapshot_service(active.id).disks_service().list()
    assert [d.id for d in now] == [attachment.disk.id]
    # the snapshot froze the volume it names; the VM goes on on a new one above it
    assert then[0].image_id != now[0].image_id
    with pytest.raises(sdk.NotFoundError):
        snapshots.snapshot_service("no-such").disks_service().list()
