"""Maintenance empties a host by live migration and activate brings it back."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import HostStatus, VmStatus
from tests.hosts.labenv import Lab

pytestmark = pytest.mark.slow


def test_maintenance_migrates_the_vms_away_and_activate_brings_the_host_back(lab: Lab) -> None:
    first = lab.start_vm("mnt1")
    second = lab.start_vm("mnt2")
    busy = lab.vm(first.id).host_id
    assert busy is not None
    other = lab.b.id if busy == lab.a.id else lab.a.id
    lab.wait_ready(first.id).close()
    lab.maintenance(busy)
    assert [v.id for v in lab.engine.ctx.store.vms.where(host_id=busy)] == []
    assert lab.vm(first.id).host_id == other and lab.vm(first.id).status is VmStatus.UP
    assert lab.vm(second.id).host_id == other
    lab.engine.host_maintenance.activate(busy, actor=SYSTEM)
    assert lab.host(busy).status is HostStatus.UP
    third = lab.start_vm("mnt3")
    assert lab.vm(third.id).host_id == busy  # the emptied host has the most free memory
