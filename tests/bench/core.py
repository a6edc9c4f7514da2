"""Core benchmarks (issue 2), each against a baseline measured in the same run:

- engine create + start of a VM vs ``virsh define`` + ``virsh start`` of the same XML;
- thin disks of 1 GiB, 100 GiB and a layer over a 2 GiB base vs plain ``qemu-img create``;
- resident memory of the service with 0 and with 500 defined VMs.
"""

from __future__ import annotations

import functools
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import libvirt

from appliance import config as configuration
from appliance.cli import development_config
from appliance.config import Config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.model import GiB, MiB
from appliance.engine.storage import DiskCreate
from appliance.engine.vms import VmCreate
from tests import sandbox
from tests.bench import Figure

ROUNDS = 5


def run() -> list[Figure]:
    state = sandbox.state_dir("virtstick-bench-")
    prefix = sandbox.domain_prefix("b")
    config = development_config(state).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": ""})
    try:
        figures = _engine_start(config, state)
        figures += _thin_disks(config, state)
        figures += _service_memory(config, state)
        return figures
    finally:
        sandbox.destroy_domains(prefix)
        shutil.rmtree(state, ignore_errors=True)


def _engine_start(config: Config, state: Path) -> list[Figure]:
    engine = Engine(config)
    engine.start()
    cluster = engine.clusters.default().id
    ram = engine.ctx.store.storage_domains.get_by_name("ram").id
    conn = libvirt.open(config.appliance.libvirt_uri)
    ours, raw = [], []
    try:
        for i in range(ROUNDS):
            started = time.perf_counter()
            vm = engine.vms.create(VmCreate(name=f"e{i}", cluster_id=cluster, memory=64 * MiB),
                                   actor=SYSTEM)
            disk = engine.disks.create(DiskCreate(name=f"e{i}d", provisioned_size=GiB,
                                                  storage_domain_id=ram), actor=SYSTEM)
            engine.vms.attach_disk(vm.id, disk.id, actor=SYSTEM, bootable=True)
            engine.vms.start(vm.id, actor=SYSTEM)
            ours.append(time.perf_counter() - started)
            assert engine.local_agent is not None
            xml = conn.lookupByUUIDString(vm.id).XMLDesc(0)
            engine.vms.stop(vm.id, actor=SYSTEM)
            raw.append(_virsh_define_start(config, state, xml, f"r{i}"))
    finally:
        conn.close()
        engine.stop()
    return [Figure("create + start a VM through the engine", statistics.median(ours), "s",
                   baseline=statistics.median(raw), target="<= 1.3x virsh define + start")]


def _virsh_define_start(config: Config, state: Path, xml: str, name: str) -> float:
    """The same domain (its disk a fresh qcow2 made by qemu-img) through virsh."""
    prefix = config.appliance.domain_prefix
    disk = state / f"{name}.qcow2"
    old_name = xml.split("<name>")[1].split("</name>")[0]
    old_uuid = xml.split("<uuid>")[1].split("</uuid>")[0]
    source = xml.split("<source file='")[1].split("'")[0]
    xml = (xml.replace(old_name, prefix + name).replace(old_uuid, _uuid())
           .replace(source, str(disk)))
    xml_path = state / f"{name}.xml"
    xml_path.write_text(xml)
    started = time.perf_counter()
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1G"], check=True)
    _virsh(config, "define", str(xml_path))
    _virsh(config, "start", prefix + name)
    elapsed = time.perf_counter() - started
    _virsh(config, "destroy", prefix + name)
    _virsh(config, "undefine", prefix + name)
    disk.chmod(0o644)
    return elapsed


def _thin_disks(config: Config, state: Path) -> list[Figure]:
    engine = Engine(config)
    engine.start()
    ram = engine.ctx.store.storage_domains.get_by_name("ram").id
    figures = []
    try:
        base = engine.disks.create(DiskCreate(name="base", provisioned_size=2 * GiB,
                                              storage_domain_id=ram), actor=SYSTEM)
        baseline = _median(lambda: _qemu_img_create(state, GiB))
        cases: list[tuple[str, Callable[[int], object]]] = [
            ("1 GiB", lambda i: engine.disks.create(
                DiskCreate(name=f"g{i}", provisioned_size=GiB, storage_domain_id=ram),
                actor=SYSTEM)),
            ("100 GiB", lambda i: engine.disks.create(
                DiskCreate(name=f"h{i}", provisioned_size=100 * GiB, storage_domain_id=ram),
                actor=SYSTEM)),
            ("layer over 2 GiB base", lambda i: engine.disks.create_layer_over(
                base, name=f"l{i}")),
        ]
        for label, make in cases:
            seconds = _median(functools.partial(_make_next, make, iter(range(1000))))
            figures.append(Figure(f"thin disk {label}", seconds * 1000, "ms",
                                  baseline=baseline * 1000, target="flat, < 100 ms"))
    finally:
        engine.stop()
    return figures


def _service_memory(config: Config, state: Path) -> list[Figure]:
    empty = _rss_of_service(config, state)
    engine = Engine(config)
    engine.start()
    cluster = engine.clusters.default().id
    for i in range(500):
        engine.vms.create(VmCreate(name=f"m{i}", cluster_id=cluster, memory=64 * MiB),
                          actor=SYSTEM)
    engine.stop()
    full = _rss_of_service(config, state)
    return [Figure("service resident memory, 500 VMs defined", full, "MB", baseline=empty,
                   target="< 120 MB")]


def _rss_of_service(config: Config, state: Path) -> float:
    path = state / "bench.toml"
    path.write_text(configuration.to_toml(config.replace(http={"listen": "127.0.0.1:0"})))
    service = subprocess.Popen([sys.executable, "-m", "appliance.cli", "serve", "--config",
                                str(path)], stderr=subprocess.PIPE, text=True)
    try:
        assert service.stderr is not None
        for line in service.stderr:
            if "serving on" in line:
                break
        time.sleep(1)
        status = Path(f"/proc/{service.pid}/status").read_text()
        kb = int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
        return kb / 1024
    finally:
        service.terminate()
        service.wait(timeout=30)


def _qemu_img_create(state: Path, size: int) -> None:
    path = state / f"q{secrets.token_hex(4)}.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), str(size)],
                   check=True)


def _make_next(make: Callable[[int], object], counter: Iterator[int]) -> object:
    return make(next(counter))


def _median(action: Callable[[], object]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _virsh(config: Config, *args: str) -> None:
    subprocess.run(["virsh", "-q", "-c", config.appliance.libvirt_uri, *args], check=True,
                   capture_output=True)


def _uuid() -> str:
    return str(uuid.uuid4())
