"""oVirt's own SDK against the running appliance: the calls real automation makes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024


def test_connect_and_api_root(admin: sdk.Connection) -> None:
    assert admin.test(raise_exception=True)
    api = admin.system_service().get()
    assert (api.product_info.version.major, api.product_info.version.minor) == (4, 5)
    assert api.special_objects.blank_template.id == "00000000-0000-0000-0000-000000000000"
    assert api.summary.hosts.total == 1
    assert api.time is not None


@pytest.fixture
def blank_vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("sdk"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank"), memory=128 * MiB))
    yield vm
    service = vms.vm_service(vm.id)
    try:
        if service.get().status != types.VmStatus.DOWN:
            service.stop()
        service.remove()
    except sdk.NotFoundError:
        pass


def test_list_and_search(admin: sdk.Connection, blank_vm: types.Vm) -> None:
    vms = admin.system_service().vms_service()
    assert blank_vm.id in [v.id for v in vms.list()]
    assert [v.id for v in vms.list(search=f"name={blank_vm.name}")] == [blank_vm.id]
    assert [v.id for v in vms.list(search=f'name="{blank_vm.name}"')] == [blank_vm.id]
    prefix = blank_vm.name[:6]
    assert blank_vm.id in [v.id for v in vms.list(search=f"name={prefix}*")]
    assert vms.list(search=f"name={blank_vm.name} and status=up") == []
    found = vms.list(search=f"name={blank_vm.name} and status=down")
    assert [v.id for v in found] == [blank_vm.id]
    upper = blank_vm.name.upper()
    assert vms.list(search=f"name={upper}") == []
    assert [v.id for v in vms.list(search=f"name={upper}", case_sensitive=False)] == [
        blank_vm.id]
    assert len(vms.list(max=1)) == 1


def test_blank_vm_with_disk_and_nic_runs(admin: sdk.Connection, blank_vm: types.Vm) -> None:
    system = admin.system_service()
    service = system.vms_service().vm_service(blank_vm.id)
    attachment = service.disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{blank_vm.name}_disk", provisioned_size=256 * MiB,
                        format=types.DiskFormat.COW,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True, active=True))
    profile = next(p for p in system.vnic_profiles_service().list() if p.name == "ovirtmgmt")
    nic = service.nics_service().add(types.Nic(name="nic1",
                                               vnic_profile=types.VnicProfile(id=profile.id)))
    assert nic.mac.address.startswith("56:6f:")
    vm = service.get(follow="disk_attachments.disk,nics")
    assert vm.disk_attachments[0].disk.id == attachment.disk.id
    assert vm.disk_attachments[0].disk.provisioned_size == 256 * MiB
    assert [n.name for n in vm.nics] == ["nic1"]
    disk = system.disks_service().disk_service(attachment.disk.id).get()
    assert disk.status == types.DiskStatus.OK

    service.start()
    assert wait_status(service, types.VmStatus.UP).start_time is not None
    disks = len(system.disks_service().list())
    with pytest.raises(sdk.Error) as refused:  # refused before a disk is made for it
        service.disk_attachments_service().add(types.DiskAttachment(
            disk=types.Disk(name=f"{blank_vm.name}_hot", provisioned_size=64 * MiB,
                            storage_domains=[types.StorageDomain(name="ram")]),
            interface=types.DiskInterface.VIRTIO, active=True))
    assert refused.value.code == 501 and "stop the VM first" in str(refused.value)
    assert len(system.disks_service().list()) == disks
    service.suspend()  # oVirt's suspend saves the guest's state to disk and ends QEMU
    assert wait_status(service, types.VmStatus.SUSPENDED).host is None
    service.start()  # and start restores it
    assert wait_status(service, types.VmStatus.UP).host is not None
    service.stop()
    assert service.get().status == types.VmStatus.DOWN
    service.remove()
    with pytest.raises(sdk.NotFoundError):
        service.get()
    with pytest.raises(sdk.NotFoundError):
        system.disks_service().disk_service(attachment.disk.id).get()


def test_actions_on_a_down_vm_fail_clearly(admin: sdk.Connection, blank_vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(blank_vm.id)
    with pytest.raises(sdk.Error) as failure:
        service.shutdown()
    assert failure.value.code == 409
    assert "must be running" in str(failure.value)


def wait_status(service: sdk.services.VmService, wanted: types.VmStatus,
                timeout: float = 180) -> types.Vm:
    deadline = time.monotonic() + timeout
    while True:
        vm = service.get()
        if vm.status == wanted or time.monotonic() > deadline:
            assert vm.status == wanted
            return vm
        time.sleep(0.5)


def test_unknown_vm_is_not_found(admin: sdk.Connection, appliance: Appliance) -> None:
    with pytest.raises(sdk.NotFoundError):
        admin.system_service().vms_service().vm_service("no-such-id").get()


def test_update_a_down_vm(admin: sdk.Connection, blank_vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(blank_vm.id)
    updated = service.update(types.Vm(description="edited", memory=256 * MiB,
                                      cpu=types.Cpu(topology=types.CpuTopology(sockets=2))))
    assert (updated.description, updated.memory, updated.cpu.topology.sockets) == (
        "edited", 256 * MiB, 2)
    assert service.get().memory == 256 * MiB
    # Sending back what the VM already has is fine; a change we cannot make is refused.
    service.update(types.Vm(memory=256 * MiB, high_availability=types.HighAvailability(
        enabled=False)))
    with pytest.raises(sdk.Error) as refused:
        service.update(types.Vm(cluster=types.Cluster(id="another-cluster")))
    assert refused.value.code == 501 and "not supported" in str(refused.value)
    assert service.get().cluster.id != "another-cluster"
