"""The appliance's own host and a lab host migrate VMs both ways: the machine's libvirtd
reaches the lab host's socket, the lab host reaches the machine's through a bind mount, and
QEMU streams over the machine's veth on the lab network."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import JobStatus, VmStatus
from tests.hosts.labenv import Lab

pytestmark = pytest.mark.slow


def test_migration_between_the_local_host_and_a_lab_host(lab: Lab) -> None:
    local = lab.engine.local_agent
    assert local is not None
    lab.engine.host_maintenance.activate(local.host_id, actor=SYSTEM)
    vm = lab.start_vm("local1")
    assert lab.vm(vm.id).host_id == local.host_id  # the machine has the most memory
    lab.wait_ready(vm.id).close()
    for target in (lab.a.id, local.host_id):
        job = lab.engine.migrations.migrate(vm.id, actor=SYSTEM, host_id=target)
        finished = lab.engine.jobs.wait(job.id, 120)
        assert finished.status is JobStatus.FINISHED, finished.error
        assert lab.vm(vm.id).host_id == target and lab.vm(vm.id).status is VmStatus.UP
    domains = {d.uuid for d in local.domains()}
    assert vm.id in domains
