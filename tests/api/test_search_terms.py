"""oVirt's cross-object search terms, sent as the SDK sends them (the ones ovirt.ovirt's
modules build: ``name=Blank and datacenter=Default``, ``Storage.name=``, ``vm_names=``,
``Clusters.name=``, ``cluster=``, events by ``vm.name=`` and ``type=``), and ``page N``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

MiB = 1024 * 1024


@pytest.fixture
def vm_with_disk(admin: sdk.Connection) -> Iterator[types.Vm]:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("srch"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank"), memory=128 * MiB))
    vms.vm_service(vm.id).disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=64 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True))
    yield vm
    with contextlib.suppress(sdk.NotFoundError):
        vms.vm_service(vm.id).remove()


def test_blank_is_found_in_every_data_center(admin: sdk.Connection) -> None:
    templates = admin.system_service().templates_service()
    found = templates.list(search="name=Blank and datacenter=Default")
    assert [t.name for t in found] == ["Blank"]
    assert templates.list(search="name=Blank and datacenter=Elsewhere") == []
    assert templates.list(search="name=Blank and DataCenter!=Default") == []


def test_templates_of_a_vm_by_its_name(admin: sdk.Connection,
                                       vm_with_disk: types.Vm) -> None:
    found = admin.system_service().templates_service().list(
        search=f"vm.name={vm_with_disk.name}")
    assert [t.name for t in found] == ["Blank"]


def test_hosts_and_clusters_by_cluster_and_data_center(admin: sdk.Connection) -> None:
    system = admin.system_service()
    [host] = system.hosts_service().list()
    assert [h.id for h in system.hosts_service().list(search="cluster=Default")] == [host.id]
    assert system.hosts_service().list(search="cluster=Nowhere") == []
    assert [h.id for h in system.hosts_service().list(
        search="datacenter=Default and status=up")] == [host.id]
    assert [c.name for c in system.clusters_service().list(search="datacenter=Default")] == [
        "Default"]
    [center] = system.data_centers_service().list(search="Clusters.name=Default")
    assert center.name == "Default"  # ovirt_nic finds the network's data center this way
    assert system.data_centers_service().list(search="clusters.name=Nowhere") == []
    assert [d.name for d in system.data_centers_service().list(search="storage=ram")] == [
        "Default"]
    assert [n.name for n in system.networks_service().list(
        search="name=ovirtmgmt and datacenter=Default")] == ["ovirtmgmt"]
    assert [s.name for s in system.storage_domains_service().list(
        search="datacenter=Default and name=ram")] == ["ram"]


def test_disks_by_storage_domain_and_vm(admin: sdk.Connection,
                                        vm_with_disk: types.Vm) -> None:
    disks = admin.system_service().disks_service()
    name = f"{vm_with_disk.name}_d"
    # ovirt_disk's own search: name, Storage.name and vm_names, quoted
    found = disks.list(search=f'name="{name}" and Storage.name="ram" and '
                              f'vm_names="{vm_with_disk.name}"')
    assert [d.name for d in found] == [name]
    assert [d.name for d in disks.list(search=f"vm_names={vm_with_disk.name}")] == [name]
    assert disks.list(search=f"name={name} and storage=elsewhere") == []
    assert disks.list(search=f"vm_names={vm_with_disk.name}-other") == []
    assert name not in [d.name for d in disks.list(search=f"vm_names!={vm_with_disk.name}")]


def test_events_by_vm_and_type(admin: sdk.Connection, vm_with_disk: types.Vm) -> None:
    events = admin.system_service().events_service()
    by_name = events.list(search=f"vm.name={vm_with_disk.name}")
    assert by_name and all(e.vm.id == vm_with_disk.id for e in by_name)
    by_id = events.list(search=f"vm.id={vm_with_disk.id}")
    assert [e.id for e in by_id] == [e.id for e in by_name]
    created = next(e for e in by_name if "was created" in e.description)
    same_type = events.list(search=f"type={created.code} and vm.id={vm_with_disk.id}")
    assert [e.id for e in same_type] == [created.id]
    assert events.list(search=f"type=1 and vm.id={vm_with_disk.id}") == []


def test_terms_are_case_insensitive_and_values_as_asked(admin: sdk.Connection,
                                                        vm_with_disk: types.Vm) -> None:
    vms = admin.system_service().vms_service()
    assert [v.id for v in vms.list(search=f"Name={vm_with_disk.name} and Cluster=Default "
                                          "and DATACENTER=Default")] == [vm_with_disk.id]
    assert vms.list(search=f"name={vm_with_disk.name} and cluster=default") == []
    assert [v.id for v in vms.list(search=f"name={vm_with_disk.name} and cluster=default",
                                   case_sensitive=False)] == [vm_with_disk.id]


def test_pages_are_max_long(admin: sdk.Connection) -> None:
    vms = admin.system_service().vms_service()
    made = [vms.add(types.Vm(name=unique(f"page{i}"), cluster=types.Cluster(name="Default"),
                             template=types.Template(name="Blank"), memory=64 * MiB))
            for i in range(3)]
    try:
        ordered = [v.name for v in vms.list(search="name=page* sortby name asc")]
        pages = [[v.name for v in vms.list(search=f"name=page* sortby name asc page {n}",
                                           max=1)] for n in (1, 2, 3, 4)]
        assert pages == [[ordered[0]], [ordered[1]], [ordered[2]], []]
        assert [v.name for v in vms.list(search="name=page* sortby name page 1", max=2)] == \
            ordered[:2]
    finally:
        for vm in made:
            vms.vm_service(vm.id).remove()


def test_an_unknown_term_is_a_clear_fault(admin: sdk.Connection,
                                          appliance: Appliance) -> None:
    with pytest.raises(sdk.Error) as refused:
        admin.system_service().disks_service().list(search="colour=blue")
    assert refused.value.code == 400
    assert "Cannot search by 'colour'" in str(refused.value)
    assert "vm_names" in str(refused.value)  # the fault names the terms there are
