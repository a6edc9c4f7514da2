"""A lab of two hosts for tests and benchmarks: an engine whose own host is in maintenance,
two lab hosts of 1 GiB each (real namespaces and libvirtds) and the demo template."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance.cli import development_config
from appliance.demoguest.console import GuestConsole
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import DEMO_TEMPLATE, Engine
from appliance.engine.enums import HostStatus, JobStatus, VmStatus
from appliance.engine.model import Host, Vm
from appliance.engine.vms import VmCreate
from appliance.security.passwords import hash_password

MiB = 1024 * 1024
ADMIN_PASSWORD = "admin-" + secrets.token_hex(6)


@dataclass
class Lab:
    engine: Engine
    a: Host
    b: Host
    template_id: str

    def host(self, host_id: str) -> Host:
        return self.engine.ctx.store.hosts.get(host_id)

    def vm(self, vm_id: str) -> Vm:
        return self.engine.ctx.store.vms.get(vm_id)

    def console(self, vm_id: str) -> GuestConsole:
        vm = self.vm(vm_id)
        assert vm.host_id is not None
        socket_path, log_path = self.engine.ctx.hosts.agent(vm.host_id).console_paths(vm_id)
        return GuestConsole(socket_path, log_path)

    def start_vm(self, name: str, *, memory: int = 256 * MiB, ha: bool = False) -> Vm:
        cluster = self.engine.clusters.default()
        vm = self.engine.vms.create(VmCreate(name=name, cluster_id=cluster.id,
                                             template_id=self.template_id, memory=memory,
                                             high_availability=ha), actor=SYSTEM)
        self.engine.vms.start(vm.id, actor=SYSTEM)
        return self.vm(vm.id)

    def wait_ready(self, vm_id: str, timeout: float = 60, *, after: int = 0) -> GuestConsole:
        """The guest's console once it printed its ready line (past ``after`` bytes of its
        log: the log is kept across boots)."""
        console = self.console(vm_id)
        wait_until(lambda: b"VIRTSTICK-GUEST-READY" in self.log_bytes(vm_id)[after:], timeout,
                   "the guest's ready line")
        return console

    def log_bytes(self, vm_id: str) -> bytes:
        log_path = self.engine.config.appliance.state_dir / "consoles" / f"{vm_id}.log"
        try:
            return log_path.read_bytes()
        except FileNotFoundError:
            return b""

    def maintenance(self, host_id: str, timeout: float = 180) -> None:
        job = self.engine.host_maintenance.deactivate(host_id, actor=SYSTEM)
        finished = self.engine.jobs.wait(job.id, timeout)
        assert finished.status is JobStatus.FINISHED, finished.error
        assert self.host(host_id).status is HostStatus.MAINTENANCE


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)
    return time.monotonic() - started



@contextlib.contextmanager
def lab_engine(demo_disk: Path, **sections: dict[str, object]) -> Iterator[Lab]:
    """``sections``: configuration to change besides the lab's own."""
    state = Path(tempfile.mkdtemp(prefix="virtstick-hosts-", dir="/var/tmp"))
    state.chmod(0o755)
    config = development_config(state).replace(
        appliance={"virt_type": "qemu", "domain_prefix": f"h{secrets.token_hex(3)}-",
                   "demo_disk": str(demo_disk)},
        auth={"admin_password_hash": hash_password(ADMIN_PASSWORD)},
        hosts={"monitor_interval": 0.5, "fence_after": 1.5, "balance_interval": 2.0,
               "lab_memory_mib": 1024}).replace(**sections)
    engine = Engine(config)
    the_lab: Lab | None = None
    try:
        engine.start()
        wait_until(lambda: engine.ctx.store.templates.by_name(DEMO_TEMPLATE) is not None
                   and not engine.ctx.store.jobs.where(status=JobStatus.STARTED), 120,
                   "the demo template")
        template = engine.ctx.store.templates.get_by_name(DEMO_TEMPLATE)
        a = engine.hosts.start_lab_host("lab-a", actor=SYSTEM)
        b = engine.hosts.start_lab_host("lab-b", actor=SYSTEM)
        the_lab = Lab(engine, a, b, template.id)
        local = engine.local_agent
        assert local is not None
        the_lab.maintenance(local.host_id)
        yield the_lab
    finally:
        # A test may have replaced the engine (a restart): tear down the one in use.
        _teardown(the_lab.engine if the_lab is not None else engine, state)


def _teardown(engine: Engine, state: Path) -> None:
    for vm in engine.ctx.store.vms.all():
        if vm.host_id is not None and vm.status is not VmStatus.DOWN:
            with contextlib.suppress(Exception):
                engine.ctx.hosts.agent(vm.host_id).power_off(vm.id)
    with contextlib.suppress(Exception):
        engine.stop()
    engine.hosts.lab.teardown()
    with contextlib.suppress(Exception):
        if engine.local_agent is not None:
            engine.local_agent.close()
    shutil.rmtree(state, ignore_errors=True)
