"""Affinity groups as scheduler filters: a negative group spreads VMs that the policy would
pack together, a positive one packs VMs that the policy would spread, and a migration that
would break an enforcing group is refused."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.model import AffinityGroup
from appliance.engine.vms import VmCreate
from appliance.errors import InsufficientResources
from tests.hosts.labenv import Lab, MiB

pytestmark = pytest.mark.slow


def _create(lab: Lab, name: str) -> str:
    cluster = lab.engine.clusters.default()
    vm = lab.engine.vms.create(VmCreate(name=name, cluster_id=cluster.id,
                                        template_id=lab.template_id, memory=128 * MiB),
                               actor=SYSTEM)
    return vm.id


def test_affinity_groups_filter_hosts(lab: Lab) -> None:
    cluster = lab.engine.clusters.default()
    apart = [_create(lab, "apart1"), _create(lab, "apart2")]
    together = [_create(lab, "together1"), _create(lab, "together2")]
    lab.engine.clusters.set_affinity_group(
        cluster.id, AffinityGroup("apart", tuple(apart), positive=False), actor=SYSTEM)
    lab.engine.clusters.set_affinity_group(
        cluster.id, AffinityGroup("together", tuple(together), positive=True), actor=SYSTEM)

    # power_saving without switching hosts off (an empty host would go to standby)
    lab.engine.clusters.set_scheduling_policy(
        cluster.id, SchedulingPolicyName.POWER_SAVING, actor=SYSTEM,
        properties={"EnableAutomaticHostPowerManagement": "false"})
    for vm_id in apart:  # power_saving packs; the negative group spreads
        lab.engine.vms.start(vm_id, actor=SYSTEM)
    assert lab.vm(apart[0]).host_id != lab.vm(apart[1]).host_id

    lab.engine.clusters.set_scheduling_policy(cluster.id,
                                              SchedulingPolicyName.VM_EVENLY_DISTRIBUTED,
                                              actor=SYSTEM)
    for vm_id in together:  # vm_evenly_distributed spreads; the positive group packs
        lab.engine.vms.start(vm_id, actor=SYSTEM)
    host = lab.vm(together[0]).host_id
    assert lab.vm(together[1]).host_id == host

    other = lab.b.id if host == lab.a.id else lab.a.id
    with pytest.raises(InsufficientResources, match="affinity group together"):
        lab.engine.migrations.migrate(together[1], actor=SYSTEM, host_id=other)
