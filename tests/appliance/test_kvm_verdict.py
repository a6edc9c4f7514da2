"""KVM or TCG, decided on real libvirtd: the probe starts a kvm domain as VMs get it and is
bounded however KVM behaves; a start that fails under KVM falls back to TCG once, and the
verdict for the boot changes.

A KVM start that fails is made for real: the kvm domain requires (check='full') a CPU
feature this host does not have, so QEMU starts and libvirt refuses the guest's CPU; where
/dev/kvm is missing the kvm start fails anyway. Either is a real libvirt failure.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt
import pytest
from defusedxml import ElementTree as SafeET

from appliance.config import VirtType
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.vms import VmCreate
from appliance.vdsm import domxml
from appliance.vdsm.host import VERDICT_FILE, VirtVerdict, choose_virt_type, start_with_fallback
from appliance.vdsm.kvmprobe import PROBE_PREFIX, guest_runs_under_kvm
from tests.appliance.conftest import make_config

pytestmark = pytest.mark.slow
URI = "qemu:///system"
PROBE_TIMEOUT = 15.0


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    connection = libvirt.open(URI)
    yield connection
    connection.close()


def missing_cpu_feature() -> str:
    flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("flags")).split(":", 1)[1].split()
    for feature in ("svm", "vmx"):  # an Intel host lacks AMD's, and the other way round
        if feature not in flags:
            return feature
    pytest.skip("this CPU claims both VT-x and AMD-V")


def tiny_spec(prefix: str, name: str, disk: Path | None = None) -> domxml.DomainSpec:
    disks = (domxml.DiskDevice(path=disk, target="vda"),) if disk is not None else ()
    return domxml.DomainSpec(uuid=str(uuid.uuid4()), name=f"{prefix}{name}", memory=64 * 2**20,
                             vcpus=1, virt_type=VirtType.KVM, appliance_id="test", disks=disks,
                             graphics=())


def starter(conn: libvirt.virConnect, spec: domxml.DomainSpec, feature: str,
            tried: list[str]) -> Callable[[VirtType], None]:
    """Starts the VM as the agent does; under KVM its CPU requires ``feature``."""
    def start(virt_type: VirtType) -> None:
        tried.append(virt_type)
        xml = dataclasses.replace(spec, virt_type=virt_type).to_xml()
        if virt_type == "kvm":
            cpu = ("<cpu mode='host-passthrough' check='full'>"
                   f"<feature policy='require' name='{feature}'/></cpu>")
            xml = xml.replace('<cpu mode="host-passthrough" />', cpu)
            assert cpu in xml
        conn.createXML(xml, 0)
    return start


def running_type(conn: libvirt.virConnect, name: str) -> str:
    return str(SafeET.fromstring(conn.lookupByName(name).XMLDesc(0)).get("type"))


def test_a_start_failing_under_kvm_falls_back_to_tcg_once(
        conn: libvirt.virConnect, domain_prefix: str, tmp_path: Path) -> None:
    feature = missing_cpu_feature()
    heard: list[tuple[str, str]] = []
    verdict = VirtVerdict(VirtType.KVM, cache_dir=tmp_path,
                          on_fallback=lambda vm, why: heard.append((vm, why)))
    tried: list[str] = []
    first = tiny_spec(domain_prefix, "first")
    used = start_with_fallback(starter(conn, first, feature, tried),
                               virt_type=verdict.virt_type, verdict=verdict, vm="first")
    assert (used, tried) == ("qemu", ["kvm", "qemu"])
    assert running_type(conn, first.name) == "qemu"  # really running, under TCG
    assert verdict.virt_type == "qemu"
    ((vm, why),) = heard
    assert vm == "first" and (feature in why or "kvm" in why.lower()), why
    # The verdict for this boot changed: a restarted service takes TCG without probing.
    assert json.loads((tmp_path / VERDICT_FILE).read_text())["virt_type"] == "qemu"
    assert choose_virt_type(VirtType.AUTO, cache_dir=tmp_path, probe_disk=None) == "qemu"

    tried.clear()
    second = tiny_spec(domain_prefix, "second")
    start_with_fallback(starter(conn, second, feature, tried),
                        virt_type=verdict.virt_type, verdict=verdict, vm="second")
    assert tried == ["qemu"] and len(heard) == 1  # once: later starts go straight to TCG


def test_a_start_failing_under_tcg_too_is_not_kvms_fault(
        conn: libvirt.virConnect, domain_prefix: str, tmp_path: Path) -> None:
    heard: list[tuple[str, str]] = []
    verdict = VirtVerdict(VirtType.KVM, cache_dir=tmp_path,
                          on_fallback=lambda vm, why: heard.append((vm, why)))
    spec = tiny_spec(domain_prefix, "nodisk", disk=tmp_path / "no-such-disk.qcow2")
    tried: list[str] = []
    with pytest.raises(libvirt.libvirtError):
        start_with_fallback(starter(conn, spec, missing_cpu_feature(), tried),
                            virt_type=VirtType.KVM, verdict=verdict, vm="nodisk")
    assert tried == ["kvm", "qemu"]
    assert verdict.virt_type == "kvm" and not heard
    assert not (tmp_path / VERDICT_FILE).exists()


def test_probe_through_libvirt_is_bounded_and_cleans_up(
        conn: libvirt.virConnect, demo_disk: Path) -> None:
    """On a machine where KVM guests hang (this one), the probe says so within its bound;
    where they boot, it has seen the demo guest's ready line under KVM."""
    work = Path("/var/tmp") / f"kvm-probe-test-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    result = guest_runs_under_kvm(URI, work_dir=work, disk=demo_disk, timeout=PROBE_TIMEOUT)
    elapsed = time.monotonic() - started
    print(f"KVM probe: {result} in {elapsed:.1f} s")
    assert elapsed < PROBE_TIMEOUT + 30
    assert result.reason
    assert not any(d.name().startswith(PROBE_PREFIX) for d in conn.listAllDomains())
    assert not work.exists()


def test_the_engine_records_a_fallback_and_the_hosts_follow(
        state_dir: Path, domain_prefix: str, tmp_path: Path) -> None:
    """The engine's side of a fallback: an event, and its hosts say TCG. (The failing KVM
    start itself is the test above; this machine's KVM starts guests that then hang.)"""
    runtime = tmp_path / "run"
    runtime.mkdir()
    boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    (runtime / VERDICT_FILE).write_text(json.dumps({"boot_id": boot_id, "virt_type": "kvm"}))
    config = make_config(state_dir, domain_prefix, virt_type="auto", runtime_dir=runtime)
    engine = Engine(config)
    engine.start()
    try:
        verdict = engine.agent_settings().verdict
        assert verdict is not None and verdict.virt_type == "kvm"
        assert all(h.virt_type == "kvm" for h in engine.ctx.store.hosts.all())
        verdict.fall_back(vm="web1", reason="failed to set MSR 0x10a")
        (event,) = [e for e in engine.events.recent() if e.code == "kvm_fallback"]
        assert "web1" in event.description and "MSR 0x10a" in event.description
        assert event.severity.value == "warning"
        assert all(h.virt_type == "qemu" for h in engine.ctx.store.hosts.all())
        assert engine.agent_settings().current_virt_type() == "qemu"
    finally:
        engine.stop()


def test_the_kvm_probe_runs_after_the_engine_started_and_vm_starts_wait_for_it(
        state_dir: Path, domain_prefix: str, tmp_path: Path, demo_disk: Path) -> None:
    """The engine starts on the quick check alone; booting a guest under KVM happens in the
    background. Where KVM's vCPUs run (this machine) the verdict is open after start, a VM
    started meanwhile waits for it, and runs under what it says; the hosts follow."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    config = make_config(state_dir, domain_prefix, virt_type="auto", runtime_dir=runtime,
                         demo_disk=str(demo_disk))
    engine = Engine(config)
    engine.start()
    try:
        verdict = engine.agent_settings().verdict
        assert verdict is not None
        if verdict.settled:
            assert verdict.virt_type == "qemu"  # no KVM at all here: nothing to probe
            return
        vm = engine.vms.create(VmCreate(name=f"{domain_prefix}waits",
                                        cluster_id=engine.clusters.default().id,
                                        memory=64 * 2**20), actor=SYSTEM)
        engine.vms.start(vm.id, actor=SYSTEM)  # returns once the probe has decided
        assert verdict.settled
        name = f"{domain_prefix}{domain_prefix}waits"
        with libvirt.open(URI) as conn:
            assert running_type(conn, name) == verdict.virt_type
        decided = json.loads((runtime / VERDICT_FILE).read_text())["virt_type"]
        assert decided == verdict.virt_type
        if verdict.virt_type == "qemu":
            (event,) = [e for e in engine.events.recent() if e.code == "kvm_fallback"]
            assert "KVM does not run guests on this machine" in event.description
            assert all(h.virt_type == "qemu" for h in engine.ctx.store.hosts.all())
        engine.vms.stop(vm.id, actor=SYSTEM)
    finally:
        engine.stop()
