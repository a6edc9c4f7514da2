"""Users, roles and permissions: a UserRole user sees and runs only their own VMs (and those
an admin gave them); the engine refuses the rest whatever the client."""

from __future__ import annotations

from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024
PASSWORD = "user-password-1"


@pytest.fixture
def user(admin: sdk.Connection) -> Iterator[types.User]:
    users = admin.system_service().users_service()
    added = users.add(types.User(user_name=f"{unique('jdoe')}@internal", password=PASSWORD,
                                 domain=types.Domain(name="internal-authz")))
    yield added
    users.user_service(added.id).remove()


def _vm(connection: sdk.Connection, name: str) -> types.Vm:
    return connection.system_service().vms_service().add(types.Vm(
        name=name, template=types.Template(name="Blank"), cluster=types.Cluster(name="Default"),
        memory=64 * MiB))


def test_user_role_sees_only_own_vms(appliance: Appliance, admin: sdk.Connection,
                                     user: types.User) -> None:
    admins_vm = _vm(admin, unique("adminvm"))
    connection = appliance.connect(f"{user.principal}@internal", PASSWORD)
    try:
        own = _vm(connection, unique("uservm"))
        visible = connection.system_service().vms_service().list()
        assert [v.id for v in visible] == [own.id]
        hidden = connection.system_service().vms_service().vm_service(admins_vm.id)
        with pytest.raises(sdk.NotFoundError):
            hidden.get()
        with pytest.raises(sdk.NotFoundError):
            hidden.start()
        with pytest.raises(sdk.NotFoundError):
            hidden.remove()
        assert admin.system_service().vms_service().vm_service(admins_vm.id).get().status \
            == types.VmStatus.DOWN
        with pytest.raises(sdk.AuthError):
            connection.system_service().users_service().add(types.User(
                user_name="intruder@internal", password="intruder-pass"))
        # An admin gives the user the VM: now they see it too.
        admin.system_service().vms_service().vm_service(admins_vm.id).permissions_service() \
            .add(types.Permission(role=types.Role(name="UserRole"), user=types.User(id=user.id)))
        assert {v.id for v in connection.system_service().vms_service().list()} == {
            own.id, admins_vm.id}
        admin.system_service().vms_service().vm_service(own.id).remove()
    finally:
        connection.close()
        admin.system_service().vms_service().vm_service(admins_vm.id).remove()


def test_roles_are_listed(admin: sdk.Connection) -> None:
    names = {r.name for r in admin.system_service().roles_service().list()}
    assert {"SuperUser", "UserRole"} <= names


GiB = 1024 * MiB


def _floating(connection: sdk.Connection, name: str, size: int) -> types.Disk:
    return connection.system_service().disks_service().add(types.Disk(
        name=name, provisioned_size=size, format=types.DiskFormat.COW, sparse=True,
        storage_domains=[types.StorageDomain(name="ram")]))


def test_floating_disks_belong_to_their_creator(appliance: Appliance, admin: sdk.Connection,
                                                user: types.User) -> None:
    connection = appliance.connect(f"{user.principal}@internal", PASSWORD)
    users = admin.system_service().users_service()
    other = users.add(types.User(user_name=f"{unique('eve')}@internal", password=PASSWORD))
    stranger = appliance.connect(f"{other.principal}@internal", PASSWORD)
    try:
        disk = _floating(connection, unique("mine"), GiB)
        disks = connection.system_service().disks_service()
        assert [d.id for d in disks.list()] == [disk.id]
        assert disks.disk_service(disk.id).get().name == disk.name
        others = stranger.system_service().disks_service()
        assert disk.id not in [d.id for d in others.list()]
        with pytest.raises(sdk.NotFoundError):
            others.disk_service(disk.id).remove()
        assert disk.id in [d.id for d in admin.system_service().disks_service().list()]
        disks.disk_service(disk.id).remove()
        assert disks.list() == []
        # An administrator sees and removes any user's disk.
        again = _floating(connection, unique("mine"), GiB)
        admin.system_service().disks_service().disk_service(again.id).remove()
        assert disks.list() == []
    finally:
        connection.close()
        stranger.close()
        users.user_service(other.id).remove()


def test_a_user_cannot_promise_past_the_quota(appliance: Appliance, admin: sdk.Connection,
                                              user: types.User) -> None:
    connection = appliance.connect(f"{user.principal}@internal", PASSWORD)
    quota = appliance.config.quotas.user_storage_gib * GiB
    try:
        with pytest.raises(sdk.Error) as refused:
            _floating(connection, unique("huge"), 900 * GiB)
        assert "user quota" in str(refused.value) and "409" in str(refused.value)
        kept = _floating(connection, unique("most"), quota - GiB)
        with pytest.raises(sdk.Error):
            _floating(connection, unique("more"), 2 * GiB)
        with pytest.raises(sdk.Error) as refused:
            connection.system_service().vms_service().add(types.Vm(
                name=unique("wide"), template=types.Template(name="Blank"),
                cluster=types.Cluster(name="Default"), memory=64 * MiB,
                cpu=types.Cpu(topology=types.CpuTopology(sockets=64, cores=1, threads=1))))
        assert "virtual CPUs" in str(refused.value)
        # The administrator's next disk still fits: the user's promise was bounded.
        admins = _floating(admin, unique("admins"), GiB)
        admin.system_service().disks_service().disk_service(admins.id).remove()
        connection.system_service().disks_service().disk_service(kept.id).remove()
    finally:
        connection.close()
