"""A VM's settings as oVirt's clients set and read them, through the SDK: memory policy,
CPU topology, serial number (which the guest's SMBIOS then carries), placement policy
(which the scheduler and migrations then follow), console, high availability and lease,
and initialization with the VM's OVF under all_content."""

from __future__ import annotations

from collections.abc import Iterator

import libvirt
import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, blank_vm, unique
from tests.api.test_sdk import wait_status

MiB = 1024 * 1024


@pytest.fixture
def vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    with blank_vm(admin, "fld", 128 * MiB) as made:
        yield made


def _with_disk(admin: sdk.Connection, vm: types.Vm) -> None:
    admin.system_service().vms_service().vm_service(vm.id).disk_attachments_service().add(
        types.DiskAttachment(disk=types.Disk(name=f"{vm.name}_d", provisioned_size=16 * MiB,
                                             storage_domains=[types.StorageDomain(name="ram")]),
                             interface=types.DiskInterface.VIRTIO, bootable=True))


def test_memory_policy_and_cpus_as_ovirt_vm_updates_them(admin: sdk.Connection,
                                                         vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(vm.id)
    got = service.get()
    assert (got.memory_policy.guaranteed, got.memory_policy.max) == (128 * MiB, 512 * MiB)
    # what ovirt_vm sends for memory 512MiB, memory_guaranteed 256MiB, memory_max 1GiB and
    # cpu_cores 2
    updated = service.update(types.Vm(
        name=vm.name, memory=512 * MiB,
        memory_policy=types.MemoryPolicy(guaranteed=256 * MiB, max=1024 * MiB),
        cpu=types.Cpu(topology=types.CpuTopology(cores=2, sockets=1))))
    for answer in (updated, service.get()):
        assert (answer.memory, answer.memory_policy.guaranteed, answer.memory_policy.max) == (
            512 * MiB, 256 * MiB, 1024 * MiB)
        assert (answer.cpu.topology.cores, answer.cpu.topology.sockets) == (2, 1)
    for wrong, words in (
            (types.Vm(memory_policy=types.MemoryPolicy(guaranteed=1024 * MiB)),
             "guaranteed memory"),
            (types.Vm(memory_policy=types.MemoryPolicy(max=256 * MiB)), "maximum memory")):
        with pytest.raises(sdk.Error) as refused:
            service.update(wrong)
        assert refused.value.code == 400 and words in str(refused.value)
    assert service.get().memory_policy.guaranteed == 256 * MiB  # nothing changed


def test_a_new_vm_keeps_its_memory_policy(admin: sdk.Connection) -> None:
    vms = admin.system_service().vms_service()
    made = vms.add(types.Vm(name=unique("mp"), cluster=types.Cluster(name="Default"),
                            template=types.Template(name="Blank"), memory=256 * MiB,
                            memory_policy=types.MemoryPolicy(guaranteed=128 * MiB,
                                                             max=2048 * MiB)))
    try:
        got = vms.vm_service(made.id).get()
        assert (got.memory_policy.guaranteed, got.memory_policy.max) == (128 * MiB,
                                                                         2048 * MiB)
    finally:
        vms.vm_service(made.id).remove()


def test_serial_number_reaches_the_guest(admin: sdk.Connection, appliance: Appliance,
                                         vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(vm.id)
    service.update(types.Vm(serial_number=types.SerialNumber(
        policy=types.SerialNumberPolicy.CUSTOM, value="myserial")))
    kept = service.get().serial_number
    assert (kept.policy, kept.value) == (types.SerialNumberPolicy.CUSTOM, "myserial")
    _with_disk(admin, vm)
    service.start()
    wait_status(service, types.VmStatus.UP)
    conn = libvirt.open(appliance.config.appliance.libvirt_uri)
    try:
        xml = conn.lookupByUUIDString(vm.id).XMLDesc()
    finally:
        conn.close()
    assert '<entry name="serial">myserial</entry>' in xml.replace("'", '"')
    with pytest.raises(sdk.Error) as running:  # the guest reads it at its start
        service.update(types.Vm(serial_number=types.SerialNumber(
            policy=types.SerialNumberPolicy.VM)))
    assert running.value.code == 409 and "serial number" in str(running.value)


def test_placement_policy_is_kept_and_followed(admin: sdk.Connection, vm: types.Vm) -> None:
    system = admin.system_service()
    [host] = system.hosts_service().list()
    service = system.vms_service().vm_service(vm.id)
    service.update(types.Vm(placement_policy=types.VmPlacementPolicy(
        hosts=[types.Host(name=host.name)])))  # what pin_vm sends
    policy = service.get().placement_policy
    assert [h.id for h in policy.hosts] == [host.id]
    assert policy.affinity == types.VmAffinity.MIGRATABLE
    service.update(types.Vm(placement_policy=types.VmPlacementPolicy(
        affinity=types.VmAffinity.PINNED)))
    assert service.get().placement_policy.affinity == types.VmAffinity.PINNED
    assert [h.id for h in service.get().placement_policy.hosts] == [host.id]
    _with_disk(admin, vm)
    service.start()
    assert wait_status(service, types.VmStatus.UP).host.id == host.id
    with pytest.raises(sdk.Error) as pinned:
        service.migrate()
    assert pinned.value.code == 409 and "pinned" in str(pinned.value)
    with pytest.raises(sdk.NotFoundError):
        service.update(types.Vm(placement_policy=types.VmPlacementPolicy(
            hosts=[types.Host(name="no-such-host")])))


def test_console_ha_lease_and_initialization(admin: sdk.Connection, vm: types.Vm) -> None:
    system = admin.system_service()
    vms = system.vms_service()
    service = vms.vm_service(vm.id)
    [listed] = vms.list(search=f"name={vm.name}", all_content=True)
    assert listed.console.enabled is True  # every VM has its serial console
    with pytest.raises(sdk.Error) as off:
        service.update(types.Vm(console=types.Console(enabled=False)))
    assert off.value.code == 501
    [domain] = system.storage_domains_service().list(search="name=ram")
    service.update(types.Vm(high_availability=types.HighAvailability(enabled=True),
                            lease=types.StorageDomainLease(
                                storage_domain=types.StorageDomain(id=domain.id))))
    got = service.get()
    assert got.high_availability.enabled is True and got.lease.storage_domain.id == domain.id
    service.update(types.Vm(initialization=types.Initialization(
        host_name="web1.example.com", user_name="cloud", root_password="not-kept",
        custom_script="#cloud-config\npackages: [nginx]\n")))
    [listed] = vms.list(search=f"name={vm.name}", all_content=True)
    init = listed.initialization
    assert (init.host_name, init.user_name, init.custom_script) == (
        "web1.example.com", "cloud", "#cloud-config\npackages: [nginx]\n")
    assert init.root_password is None
    assert init.configuration.type == types.ConfigurationType.OVF
    assert f"<Name>{vm.name}</Name>" in init.configuration.data  # download_vm_ovf's file
    assert service.get(all_content=True).initialization.configuration.data.startswith("<?xml")
