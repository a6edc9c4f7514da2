"""Nothing is lost when the service is killed or libvirtd restarts, and nothing unknown is
deleted: libvirt is the truth about what runs, the store about what should exist."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import libvirt
import pytest

from appliance import config as configuration
from appliance.config import Config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from tests.appliance.guests import READY, console, create_demo_vm, libvirt_state, wait_status

pytestmark = pytest.mark.slow

_SERVICE = """
import sys, time
from appliance import config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from tests.appliance.guests import create_demo_vm
engine = Engine(config.load(__import__("pathlib").Path(sys.argv[1])))
engine.start()
vm = create_demo_vm(engine, "survivor")
engine.vms.start(vm.id, actor=SYSTEM)
print(vm.id, flush=True)
time.sleep(3600)
"""


def test_sigkill_of_the_service_loses_nothing(config: Config, demo_disk: Path,
                                              tmp_path: Path) -> None:
    config = config.replace(appliance={"demo_disk": str(demo_disk)})
    path = tmp_path / "virtstick.toml"
    path.write_text(configuration.to_toml(config))
    service = subprocess.Popen([sys.executable, "-c", _SERVICE, str(path)],
                               stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).resolve().parents[2])
    assert service.stdout is not None
    vm_id = service.stdout.readline().strip()
    assert vm_id, "the service did not start its VM"
    os.kill(service.pid, signal.SIGKILL)
    service.wait()

    engine = Engine(config)
    engine.start()
    try:
        vm = engine.ctx.store.vms.get(vm_id)
        assert vm.status is VmStatus.UP
        assert libvirt_state(vm_id) == libvirt.VIR_DOMAIN_RUNNING
        guest = console(engine, vm)
        guest.wait_for(READY, timeout=120)
        guest.send("marker write alive-after-kill")  # the guest still answers
        guest.wait_for("VIRTSTICK-MARKER-WRITTEN=alive-after-kill", timeout=30)
        engine.vms.stop(vm_id, actor=SYSTEM)
    finally:
        engine.stop()


def test_libvirtd_restart_is_survived(config: Config, demo_disk: Path) -> None:
    engine = Engine(config.replace(appliance={"demo_disk": str(demo_disk)}))
    engine.start()
    try:
        vm = create_demo_vm(engine, "steady")
        engine.vms.start(vm.id, actor=SYSTEM)
        console(engine, vm).wait_for(READY, timeout=120)
        _restart_libvirtd()
        assert engine.local_agent is not None
        deadline = time.monotonic() + 60
        while not engine.local_agent.connection.connected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert engine.local_agent.connection.connected
        assert engine.ctx.store.vms.get(vm.id).status is VmStatus.UP
        # Events flow again: a guest shutdown after the restart is seen.
        engine.vms.shutdown(vm.id, actor=SYSTEM)
        wait_status(engine, vm.id, VmStatus.DOWN, timeout=120)
    finally:
        engine.stop()


def test_unknown_domains_and_volumes_are_reported_not_deleted(config: Config,
                                                             domain_prefix: str) -> None:
    engine = Engine(config)
    engine.start()
    ram = engine.ctx.store.storage_domains.get_by_name("ram")
    engine.stop()
    stray = Path(ram.path) / ram.id / "images" / "stray-image" / "stray-volume"
    stray.parent.mkdir(parents=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(stray), "1G"], check=True)
    conn = libvirt.open("qemu:///system")
    foreign = conn.createXML(
        f"<domain type='qemu'><name>{domain_prefix}foreign</name><memory unit='MiB'>32</memory>"
        "<os><type arch='x86_64'>hvm</type></os></domain>", 0)
    try:
        engine = Engine(config)
        engine.start()
        codes = {str(e.code): e.description for e in engine.events.recent(limit=20)}
        engine.stop()
        assert "unknown_volume" in codes and "stray-volume" in codes["unknown_volume"]
        assert "unknown_domain" in codes and "foreign" in codes["unknown_domain"]
        assert stray.exists()
        assert foreign.isActive()
    finally:
        foreign.destroy()
        conn.close()


def _restart_libvirtd() -> None:
    """Restart the system libvirtd only (by its pid file): other libvirtds on the machine,
    such as lab hosts', are not ours to stop."""
    pid = int(Path("/run/libvirtd.pid").read_text().strip())
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        time.sleep(0.1)
    subprocess.run(["libvirtd", "-d"], check=True)
