"""The engine restarts while lab hosts keep running (as other machines' hosts would): it
reconnects to them and finds their VMs still up."""

from __future__ import annotations

import pytest

from appliance.engine.engine import Engine
from appliance.engine.enums import HostStatus, VmStatus
from tests.hosts.labenv import Lab, wait_until

pytestmark = pytest.mark.slow


def test_engine_restart_reconnects_lab_hosts_and_keeps_their_vms(lab: Lab) -> None:
    vm = lab.start_vm("restart1")
    host_id = lab.vm(vm.id).host_id
    lab.engine.stop()
    info = lab.engine.hosts.lab_info(lab.host(host_id or ""))
    assert lab.engine.hosts.lab.running(info)  # the engine's stop leaves hosts alone
    lab.engine = Engine(lab.engine.config)
    lab.engine.start()
    wait_until(lambda: lab.host(host_id or "").status is HostStatus.UP, 30, "the host up")
    assert lab.vm(vm.id).status is VmStatus.UP and lab.vm(vm.id).host_id == host_id
    lab.wait_ready(vm.id).close()
