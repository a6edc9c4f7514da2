"""Helpers for tests that run the demo guest under the engine."""

from __future__ import annotations

import time

import libvirt

from appliance.demoguest.console import GuestConsole
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import DEMO_TEMPLATE, Engine
from appliance.engine.enums import TemplateStatus, VmStatus
from appliance.engine.model import Vm
from appliance.engine.vms import VmCreate

READY = "VIRTSTICK-GUEST-READY"


def wait_for_demo_template(engine: Engine, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        template = engine.ctx.store.templates.by_name(DEMO_TEMPLATE)
        if template is not None and template.status is TemplateStatus.OK:
            return template.id
        time.sleep(0.2)
    raise TimeoutError("the demo template was not imported in time")


def create_demo_vm(engine: Engine, name: str) -> Vm:
    return engine.vms.create(
        VmCreate(name=name, cluster_id=engine.clusters.default().id,
                 template_id=wait_for_demo_template(engine)),
        actor=SYSTEM)


def console(engine: Engine, vm: Vm) -> GuestConsole:
    assert engine.local_agent is not None
    socket, log = engine.local_agent.console_paths(vm.id)
    return GuestConsole(socket, log)


def wait_status(engine: Engine, vm_id: str, status: VmStatus, timeout: float = 90) -> Vm:
    deadline = time.monotonic() + timeout
    vm = engine.ctx.store.vms.get(vm_id)
    while time.monotonic() < deadline:
        vm = engine.ctx.store.vms.get(vm_id)
        if vm.status is status:
            return vm
        time.sleep(0.2)
    raise AssertionError(f"VM {vm.name} is {vm.status.value}, not {status.value}")


def libvirt_state(vm_id: str) -> int | None:
    """libvirt's own view: the domain's state, or None when no domain exists."""
    conn = libvirt.open("qemu:///system")
    try:
        return int(conn.lookupByUUIDString(vm_id).state()[0])
    except libvirt.libvirtError:
        return None
    finally:
        conn.close()
