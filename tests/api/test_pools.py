"""VM pools through the SDK: thin VMs from a template named pool-N, prestarted by the engine,
handed to users by allocatevm within max_user_vms, returned clean when they go down (an
automatic pool), and oVirt's refusals (no shrinking, no Blank template, no removing a pool's
VM, no VM left to give)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024
PASSWORD = "pool user password 1"


def _wait(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def template(appliance: Appliance) -> Iterator[types.Template]:
    """A small template with one disk (no guest: its VMs run a BIOS that finds nothing)."""
    admin = appliance.connect()
    system = admin.system_service()
    vm = system.vms_service().add(types.Vm(
        name=unique("poolbase"), template=types.Template(name="Blank"),
        cluster=types.Cluster(name="Default"), memory=64 * MiB))
    system.vms_service().vm_service(vm.id).disk_attachments_service().add(
        types.DiskAttachment(disk=types.Disk(
            name=f"{vm.name}_disk", provisioned_size=16 * MiB, format=types.DiskFormat.COW,
            storage_domains=[types.StorageDomain(name="ram")]),
            interface=types.DiskInterface.VIRTIO, bootable=True, active=True))
    templates = system.templates_service()
    made = templates.add(types.Template(name=unique("pooltpl"), vm=types.Vm(id=vm.id)))
    _wait(lambda: templates.template_service(made.id).get().status
          == types.TemplateStatus.OK, "the template")
    yield made
    templates.template_service(made.id).remove()
    system.vms_service().vm_service(vm.id).remove()
    admin.close()


@pytest.fixture
def user(admin: sdk.Connection) -> Iterator[types.User]:
    users = admin.system_service().users_service()
    added = users.add(types.User(user_name=f"{unique('pooler')}@internal", password=PASSWORD))
    yield added
    users.user_service(added.id).remove()


def _pool(admin: sdk.Connection, template: types.Template, **settings: object,
          ) -> types.VmPool:
    return admin.system_service().vm_pools_service().add(types.VmPool(
        name=unique("pool"), cluster=types.Cluster(name="Default"),
        template=types.Template(id=template.id), **settings))


def _members(admin: sdk.Connection, pool: types.VmPool) -> list[types.Vm]:
    members: list[types.Vm] = admin.system_service().vms_service().list(
        search=f"pool={pool.name}")
    return members


def _remove(admin: sdk.Connection, pool: types.VmPool) -> None:
    service = admin.system_service().vm_pools_service().pool_service(pool.id)
    service.remove()

    def gone() -> bool:
        try:
            service.get()
        except sdk.NotFoundError:
            return True
        return False

    _wait(gone, "the pool to go")
    assert _members(admin, pool) == []


def test_a_pool_grows_prestarts_and_refuses_to_shrink(admin: sdk.Connection,
                                                      template: types.Template) -> None:
    pool = _pool(admin, template, size=2, prestarted_vms=1, max_user_vms=1,
                 type=types.VmPoolType.AUTOMATIC)
    service = admin.system_service().vm_pools_service().pool_service(pool.id)
    try:
        assert pool.size == 2
        names = sorted(vm.name for vm in _members(admin, pool))
        assert names == [f"{pool.name}-1", f"{pool.name}-2"]
        assert {vm.vm_pool.id for vm in _members(admin, pool)} == {pool.id}
        running = [vm for vm in _members(admin, pool) if vm.status == types.VmStatus.UP]
        assert len(running) == 1  # the engine prestarted one
        service.update(types.VmPool(size=3, prestarted_vms=2))
        assert service.get().size == 3
        _wait(lambda: sum(vm.status == types.VmStatus.UP for vm in _members(admin, pool)) == 2,
              "two prestarted VMs")
        for change, status in ((types.VmPool(size=1), 400),
                               (types.VmPool(prestarted_vms=4), 409),
                               (types.VmPool(type=types.VmPoolType.MANUAL), 400)):
            with pytest.raises(sdk.Error) as refused:
                service.update(change)
            assert refused.value.code == status
        vm = _members(admin, pool)[0]
        with pytest.raises(sdk.Error) as attached:
            admin.system_service().vms_service().vm_service(vm.id).remove()
        assert attached.value.code == 409 and "attached to a VM Pool" in str(attached.value)
    finally:
        _remove(admin, pool)


def test_allocatevm_gives_a_user_one_vm_which_comes_back_clean(
        admin: sdk.Connection, appliance: Appliance, template: types.Template,
        user: types.User) -> None:
    pool = _pool(admin, template, size=2, max_user_vms=1)
    pools = admin.system_service().vm_pools_service()
    connection = appliance.connect(user.user_name, PASSWORD)
    try:
        theirs = connection.system_service().vm_pools_service()
        assert theirs.list() == []  # no role on it: not theirs to see
        pools.pool_service(pool.id).permissions_service().add(types.Permission(
            role=types.Role(name="UserRole"), user=types.User(id=user.id)))
        assert [p.id for p in theirs.list()] == [pool.id]
        theirs.pool_service(pool.id).allocate_vm()
        [given] = connection.system_service().vms_service().list()
        assert given.name.startswith(pool.name) and given.status == types.VmStatus.UP
        disk_before = _disk_ids(admin, given)
        with pytest.raises(sdk.Error) as more:
            theirs.pool_service(pool.id).allocate_vm()
        assert more.value.code == 409 and "maximum number of VMs" in str(more.value)
        with pytest.raises(sdk.Error) as remove:
            connection.system_service().vms_service().vm_service(given.id).remove()
        assert remove.value.code == 403
        # Down again, the VM returns to the pool with a new thin layer, and is not theirs.
        connection.system_service().vms_service().vm_service(given.id).stop()
        _wait(lambda: connection.system_service().vms_service().list() == [],
              "the VM to return to its pool")
        _wait(lambda: _disk_ids(admin, given) not in ([], disk_before), "a new layer")
        # The other VM, then the returned one: two users' worth is all the pool has.
        theirs.pool_service(pool.id).allocate_vm()
        other = admin.system_service().users_service().add(types.User(
            user_name=f"{unique('pooler')}@internal", password=PASSWORD))
        try:
            pools.pool_service(pool.id).permissions_service().add(types.Permission(
                role=types.Role(name="UserRole"), user=types.User(id=other.id)))
            second = appliance.connect(other.user_name, PASSWORD)
            second.system_service().vm_pools_service().pool_service(pool.id).allocate_vm()
            third = admin.system_service().users_service().add(types.User(
                user_name=f"{unique('pooler')}@internal", password=PASSWORD))
            admin.system_service().permissions_service().add(types.Permission(
                role=types.Role(name="UserRole"), user=types.User(id=third.id)))
            late = appliance.connect(third.user_name, PASSWORD)
            with pytest.raises(sdk.Error) as empty:
                late.system_service().vm_pools_service().pool_service(pool.id).allocate_vm()
            assert empty.value.code == 409 and "no available VMs" in str(empty.value)
            late.close()
            second.close()
            admin.system_service().users_service().user_service(third.id).remove()
        finally:
            admin.system_service().users_service().user_service(other.id).remove()
    finally:
        connection.close()
        _remove(admin, pool)


def test_a_pool_needs_a_real_template_and_a_vm_leaves_by_detach(
        admin: sdk.Connection, template: types.Template) -> None:
    pools = admin.system_service().vm_pools_service()
    with pytest.raises(sdk.Error) as blank:
        pools.add(types.VmPool(name=unique("blankpool"), cluster=types.Cluster(name="Default"),
                               template=types.Template(name="Blank"), size=1))
    assert blank.value.code == 409
    pool = _pool(admin, template, size=2, type=types.VmPoolType.MANUAL)
    try:
        vm = _members(admin, pool)[0]
        admin.system_service().vms_service().vm_service(vm.id).detach()
        assert pools.pool_service(pool.id).get().size == 1
        assert admin.system_service().vms_service().vm_service(vm.id).get().vm_pool is None
        admin.system_service().vms_service().vm_service(vm.id).remove()
    finally:
        _remove(admin, pool)


def _disk_ids(admin: sdk.Connection, vm: types.Vm) -> list[str]:
    attachments = admin.system_service().vms_service().vm_service(vm.id) \
        .disk_attachments_service()
    return sorted(a.disk.id for a in attachments.list())
