"""Disks as ovirt_disk and the SDK's disk examples use them: renamed and grown with
``PUT /disks/{id}`` (live through libvirt while the VM runs; never shrunk), through a disk
attachment (extend_disk, deactivate_disk_attachment), sizes in lists, a storage domain's
disks and disk profiles."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import libvirt
import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, blank_vm, unique
from tests.api.test_sdk import wait_status

MiB = 1024 * 1024


@pytest.fixture
def floating(admin: sdk.Connection) -> Iterator[types.Disk]:
    disks = admin.system_service().disks_service()
    disk = disks.add(types.Disk(name=unique("fl"), provisioned_size=64 * MiB,
                                format=types.DiskFormat.COW, description="Created by test",
                                storage_domains=[types.StorageDomain(name="ram")]))
    yield disk
    with contextlib.suppress(sdk.NotFoundError):
        disks.disk_service(disk.id).remove()


@pytest.fixture
def vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    with blank_vm(admin, "dk", 64 * MiB) as made:
        yield made


def _virtual_size(admin: sdk.Connection, disk_id: str) -> int:
    """What qemu-img says of the disk's top volume on the host."""
    system = admin.system_service()
    disk = system.disks_service().disk_service(disk_id).get()
    domain = system.storage_domains_service().storage_domain_service(
        disk.storage_domains[0].id).get()
    path = Path(domain.storage.path) / domain.id / "images" / disk.id / disk.image_id
    out = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return int(json.loads(out)["virtual-size"])


def test_rename_and_grow_a_floating_disk(admin: sdk.Connection,
                                         floating: types.Disk) -> None:
    service = admin.system_service().disks_service().disk_service(floating.id)
    new_name = unique("renamed")
    # what ovirt_disk sends to grow a disk: the whole entity with the new size
    grown = service.update(types.Disk(
        name=new_name, description="Created by test", format=types.DiskFormat.COW,
        sparse=True, provisioned_size=128 * MiB,
        storage_domains=[types.StorageDomain(name="ram")]))
    assert (grown.name, grown.provisioned_size) == (new_name, 128 * MiB)
    assert service.get().provisioned_size == 128 * MiB
    assert _virtual_size(admin, floating.id) == 128 * MiB  # the volume itself grew
    # ovirt_disk sends an empty <storage_domain> when the play names none: it stays where it is
    service.update(types.Disk(provisioned_size=160 * MiB,
                              storage_domains=[types.StorageDomain()]))
    assert service.get().provisioned_size == 160 * MiB
    with pytest.raises(sdk.Error) as shrink:
        service.update(types.Disk(provisioned_size=32 * MiB))
    assert shrink.value.code == 409 and "only grow" in str(shrink.value)
    with pytest.raises(sdk.Error) as raw:
        service.update(types.Disk(format=types.DiskFormat.RAW))
    assert raw.value.code == 501
    assert service.get().provisioned_size == 160 * MiB


def test_sizes_in_lists_domain_disks_and_profiles(admin: sdk.Connection,
                                                  floating: types.Disk) -> None:
    system = admin.system_service()
    [listed] = system.disks_service().list(search=f"name={floating.name}")
    assert listed.actual_size is not None and listed.total_size is not None
    [domain] = system.storage_domains_service().list(search="name=ram")
    domain_disks = system.storage_domains_service().storage_domain_service(
        domain.id).disks_service()
    found = [d for d in domain_disks.list() if d.description == "Created by test"]
    assert [d.id for d in found] == [floating.id]  # what delete_disks looks for
    assert found[0].actual_size is not None
    [profile] = system.storage_domains_service().storage_domain_service(
        domain.id).disk_profiles_service().list()
    assert profile.name == "ram" and profile.storage_domain.id == domain.id
    assert profile.id in [p.id for p in system.disk_profiles_service().list()]
    assert system.disks_service().disk_service(floating.id).get().disk_profile.id == \
        profile.id
    domain_disks.disk_service(floating.id).remove()
    with pytest.raises(sdk.NotFoundError):
        system.disks_service().disk_service(floating.id).get()


def test_extend_and_deactivate_through_the_attachment(admin: sdk.Connection,
                                                      vm: types.Vm) -> None:
    system = admin.system_service()
    attachments = system.vms_service().vm_service(vm.id).disk_attachments_service()
    attachment = attachments.add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=64 * MiB,
                        format=types.DiskFormat.COW,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=False, active=True))
    assert attachment.id == attachment.disk.id  # oVirt names an attachment by its disk
    one = attachments.attachment_service(attachment.id)
    one.update(types.DiskAttachment(disk=types.Disk(provisioned_size=96 * MiB)))  # extend_disk
    assert system.disks_service().disk_service(attachment.disk.id).get().provisioned_size == \
        96 * MiB
    one.update(types.DiskAttachment(active=False))  # deactivate_disk_attachment
    assert one.get().active is False
    one.update(types.DiskAttachment(active=True, bootable=True))
    assert (one.get().active, one.get().bootable) == (True, True)


def test_a_running_vms_disk_grows_live(admin: sdk.Connection, appliance: Appliance,
                                       vm: types.Vm) -> None:
    system = admin.system_service()
    service = system.vms_service().vm_service(vm.id)
    attachment = service.disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=32 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True, active=True))
    service.start()
    wait_status(service, types.VmStatus.UP)
    disk_service = system.disks_service().disk_service(attachment.disk.id)
    disk_service.update(types.Disk(provisioned_size=80 * MiB))
    conn = libvirt.open(appliance.config.appliance.libvirt_uri)
    try:
        capacity, _allocation, _physical = conn.lookupByUUIDString(vm.id).blockInfo("vda")
    finally:
        conn.close()
    assert capacity == 80 * MiB  # QEMU (so the guest) sees the new size at once
    assert disk_service.get().provisioned_size == 80 * MiB
    one = service.disk_attachments_service().attachment_service(attachment.id)
    with pytest.raises(sdk.Error) as unplug:
        one.update(types.DiskAttachment(active=False))
    assert unplug.value.code == 501 and "stop it first" in str(unplug.value)
    assert one.get().active is True
