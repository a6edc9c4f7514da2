"""Disks and NICs come off a VM only while it is down, and only its own."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
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
