"""High availability: a highly available VM comes back when its host fails or its QEMU dies,
and never runs twice."""

from __future__ import annotations

import os
import signal

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import HostStatus, VmStatus
from tests.hosts.labenv import Lab, wait_until

pytestmark = pytest.mark.slow


def _hosts_running(lab: Lab, vm_id: str) -> list[str]:
    found = []
    for host_id, agent in list(lab.engine.ctx.hosts.agents.items()):
        if agent.reachable and any(d.uuid == vm_id for d in agent.domains()):
            found.append(host_id)
    return found


def test_ha_vm_restarts_on_the_other_host_when_its_host_fails(lab: Lab) -> None:
    vm = lab.start_vm("ha1", ha=True)
    lab.wait_ready(vm.id).close()
    failed = lab.vm(vm.id).host_id
    assert failed is not None
    survivor = lab.b.id if failed == lab.a.id else lab.a.id
    logged = len(lab.log_bytes(vm.id))
    lab.engine.hosts.stop_lab_host(failed, actor=SYSTEM, crash=True)
    wait_until(lambda: lab.vm(vm.id).status is VmStatus.UP
               and lab.vm(vm.id).host_id == survivor, 90, "the HA restart")
    assert lab.host(failed).status is HostStatus.NON_RESPONSIVE
    assert _hosts_running(lab, vm.id) == [survivor]
    lab.wait_ready(vm.id, after=logged).close()  # a fresh boot of the guest on the survivor
    codes = [e.code for e in lab.engine.events.recent(limit=50)]
    assert "host_fenced" in codes and "vm_ha_restarted" in codes


def test_ha_vm_restarts_when_its_qemu_dies_and_others_do_not(lab: Lab) -> None:
    ha = lab.start_vm("ha2", ha=True)
    plain = lab.start_vm("plain2")
    for vm in (ha, plain):
        lab.wait_ready(vm.id).close()
    logged = len(lab.log_bytes(ha.id))
    for vm in (ha, plain):
        os.kill(_qemu_pid(lab, vm.id), signal.SIGKILL)
    wait_until(lambda: lab.vm(plain.id).status is VmStatus.DOWN, 30, "the plain VM down")
    wait_until(lambda: lab.vm(ha.id).status is VmStatus.UP
               and lab.vm(ha.id).start_time > ha.start_time, 60, "the HA VM restarted")
    lab.wait_ready(ha.id, after=logged).close()
    assert lab.vm(plain.id).status is VmStatus.DOWN  # not highly available: stays down
    assert len(_hosts_running(lab, ha.id)) == 1


def _qemu_pid(lab: Lab, vm_id: str) -> int:
    vm = lab.vm(vm_id)
    host = lab.host(vm.host_id or "")
    info = lab.engine.hosts.lab_info(host)
    prefix = lab.engine.config.appliance.domain_prefix
    return int((info.root / "run" / "qemu" / f"{prefix}{vm.name}.pid").read_text())


def test_a_lab_host_whose_libvirtd_died_is_soft_fenced_and_keeps_its_vms(lab: Lab) -> None:
    vm = lab.start_vm("soft1", ha=True)
    lab.wait_ready(vm.id).close()
    host = lab.host(lab.vm(vm.id).host_id or "")
    qemu = _qemu_pid(lab, vm.id)
    info = lab.engine.hosts.lab_info(host)
    os.kill(int((info.root / "libvirtd.pid").read_text()), signal.SIGKILL)
    wait_until(lambda: any(e.code == "host_soft_fenced"
                           for e in lab.engine.events.recent(limit=30)), 30, "soft fencing")
    wait_until(lambda: lab.host(host.id).status is HostStatus.UP
               and lab.vm(vm.id).status is VmStatus.UP, 60, "the host back up")
    os.kill(qemu, 0)  # the same QEMU still runs: nothing was restarted
    assert lab.vm(vm.id).host_id == host.id
    assert lab.vm(vm.id).start_time == vm.start_time
    assert _hosts_running(lab, vm.id) == [host.id]
