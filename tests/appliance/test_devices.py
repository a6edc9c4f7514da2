"""Disks and NICs come off a VM only while it is down, and only its own."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import DiskInterface, VmStatus
from appliance.engine.model import GiB, MiB
from appliance.engine.storage import DiskCreate
from appliance.engine.vms import NicCreate, VmCreate
from appliance.errors import InvalidState, NotFound


def test_detach_and_remove_nic_only_while_down(engine: Engine) -> None:
    cluster = engine.clusters.default().id
    ram = engine.ctx.store.storage_domains.get_by_name("ram").id
    vm = engine.vms.create(VmCreate(name="dev1", cluster_id=cluster, memory=64 * MiB),
                           actor=SYSTEM)
    other = engine.vms.create(VmCreate(name="dev2", cluster_id=cluster, memory=64 * MiB),
                              actor=SYSTEM)
    kept = engine.disks.create(DiskCreate(name="kept", provisioned_size=GiB,
                                          storage_domain_id=ram), actor=SYSTEM)
    gone = engine.disks.create(DiskCreate(name="gone", provisioned_size=GiB,
                                          storage_domain_id=ram), actor=SYSTEM)
    for disk in (kept, gone):
        engine.vms.attach_disk(vm.id, disk.id, actor=SYSTEM)
    nic = engine.vms.add_nic(vm.id, NicCreate(name="nic1", vnic_profile_id=None), actor=SYSTEM)

    with pytest.raises(NotFound, match="no disk"):
        engine.vms.detach_disk(other.id, kept.id, actor=SYSTEM)
    with pytest.raises(NotFound, match="no NIC"):
        engine.vms.remove_nic(other.id, nic.id, actor=SYSTEM)

    engine.vms.start(vm.id, actor=SYSTEM)
    with pytest.raises(InvalidState, match="stop it before detaching"):
        engine.vms.detach_disk(vm.id, kept.id, actor=SYSTEM)
    with pytest.raises(InvalidState, match="stop it before removing"):
        engine.vms.remove_nic(vm.id, nic.id, actor=SYSTEM)
    engine.vms.stop(vm.id, actor=SYSTEM)
    assert len(engine.ctx.store.attachments.where(vm_id=vm.id)) == 2

    engine.vms.detach_disk(vm.id, kept.id, actor=SYSTEM)
    engine.vms.detach_disk(vm.id, gone.id, actor=SYSTEM, remove=True)
    engine.vms.remove_nic(vm.id, nic.id, actor=SYSTEM)
    assert engine.ctx.store.attachments.where(vm_id=vm.id) == []
    assert engine.ctx.store.disks.find(kept.id) is not None  # detached, still there
    assert engine.ctx.store.disks.find(gone.id) is None
    assert engine.ctx.store.nics.where(vm_id=vm.id) == []


def test_many_disks_start_and_a_fifth_ide_disk_is_refused(engine: Engine) -> None:
    """Device names were taken by position among all disks: the 27th ran past 'z' (a 500),
    an IDE disk after others got a name past hdd; the IDE bus holds four."""
    cluster = engine.clusters.default().id
    ram = engine.ctx.store.storage_domains.get_by_name("ram").id
    vm = engine.vms.create(VmCreate(name="manydisks", cluster_id=cluster, memory=64 * MiB),
                           actor=SYSTEM)
    for index in range(30):
        interface = DiskInterface.IDE if index % 8 == 1 else DiskInterface.VIRTIO
        engine.vms.attach_new_disk(vm.id, DiskCreate(name=f"d{index}", provisioned_size=MiB,
                                                     storage_domain_id=ram),
                                   actor=SYSTEM, interface=interface)
    before = engine.ctx.store.disks.count()
    with pytest.raises(InvalidState, match="has 4 IDE disks"):
        engine.vms.attach_new_disk(vm.id, DiskCreate(name="ide5", provisioned_size=MiB,
                                                     storage_domain_id=ram),
                                   actor=SYSTEM, interface=DiskInterface.IDE)
    assert engine.ctx.store.disks.count() == before  # refused before the disk was made
    engine.vms.start(vm.id, actor=SYSTEM)
    assert engine.ctx.store.vms.get(vm.id).status is VmStatus.UP
    engine.vms.stop(vm.id, actor=SYSTEM)
