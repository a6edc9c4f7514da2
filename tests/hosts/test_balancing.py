"""Cluster policies move VMs by live migration: evenly_distributed spreads, power_saving
consolidates and switches the emptied host off, and brings it back when load rises."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import HostStatus, SchedulingPolicyName, VmStatus
from tests.hosts.labenv import Lab, MiB, wait_until

pytestmark = pytest.mark.slow


def _counts(lab: Lab) -> dict[str, int]:
    counts = {lab.a.id: 0, lab.b.id: 0}
    for vm in lab.engine.ctx.store.vms.all():
        if vm.host_id in counts and vm.status is VmStatus.UP:
            counts[vm.host_id] += 1
    return counts


def _set_policy(lab: Lab, policy: SchedulingPolicyName, **properties: int) -> None:
    cluster = lab.engine.clusters.default()
    lab.engine.clusters.set_scheduling_policy(
        cluster.id, policy, actor=SYSTEM,
        properties={k: str(v) for k, v in properties.items()})


def test_evenly_distributed_spreads_the_vms(lab: Lab) -> None:
    lab.maintenance(lab.b.id)
    vms = [lab.start_vm(f"even{i}") for i in range(3)]
    assert _counts(lab) == {lab.a.id: 3, lab.b.id: 0}
    lab.engine.host_maintenance.activate(lab.b.id, actor=SYSTEM)
    _set_policy(lab, SchedulingPolicyName.EVENLY_DISTRIBUTED, MaxFreeMemoryForOverUtilized=400)
    wait_until(lambda: _counts(lab) == {lab.a.id: 2, lab.b.id: 1}, 120, "a VM moved to lab-b")
    assert all(lab.vm(v.id).status is VmStatus.UP for v in vms)


def test_power_saving_consolidates_and_wakes_a_host_when_load_rises(lab: Lab) -> None:
    first, second = lab.start_vm("save1"), lab.start_vm("save2")
    assert sorted(_counts(lab).values()) == [1, 1]
    _set_policy(lab, SchedulingPolicyName.POWER_SAVING, MinFreeMemoryForUnderUtilized=600,
                HostsInReserve=0)
    wait_until(lambda: sorted(_counts(lab).values()) == [0, 2], 120, "consolidation")
    empty = next(h for h, n in _counts(lab).items() if n == 0)
    wait_until(lambda: lab.host(empty).standby, 60, "the empty host in standby")
    assert lab.host(empty).status is HostStatus.DOWN
    assert not lab.engine.hosts.lab.running(lab.engine.hosts.lab_info(lab.host(empty)))
    big = lab.start_vm("save-big", memory=700 * MiB)  # fits only on a woken host
    assert lab.vm(big.id).host_id == empty
    assert lab.host(empty).status is HostStatus.UP and not lab.host(empty).standby
    assert {lab.vm(first.id).status, lab.vm(second.id).status} == {VmStatus.UP}


def test_vm_evenly_distributed_moves_vms_off_a_crowded_host(lab: Lab) -> None:
    lab.maintenance(lab.b.id)
    for i in range(3):
        lab.start_vm(f"count{i}", memory=128 * MiB)
    lab.engine.host_maintenance.activate(lab.b.id, actor=SYSTEM)
    _set_policy(lab, SchedulingPolicyName.VM_EVENLY_DISTRIBUTED, HighVmCount=2,
                MigrationThreshold=1)
    wait_until(lambda: _counts(lab) == {lab.a.id: 2, lab.b.id: 1}, 120, "a VM moved to lab-b")
