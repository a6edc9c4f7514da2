"""Fixtures for image management tests: a real engine on libvirt (QEMU TCG) in a state
directory QEMU can traverse, and a small template whose disk holds known data."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.cli import development_config
from appliance.demoguest.console import GuestConsole
from appliance.engine.authz import SYSTEM
from appliance.engine.bootstrap import RAM_DOMAIN
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.model import Disk, MiB, Template, Vm
from appliance.engine.vms import VmCreate
from appliance.vdsm.storage_interface import VolumeId
from tests import sandbox


@dataclass
class Lab:
    engine: Engine
    state_dir: Path
    prefix: str

    def vm(self, name: str, template: Template, *, clone: bool = False) -> Vm:
        cluster = self.engine.clusters.default()
        return self.engine.vms.create(
            VmCreate(name=f"{self.prefix}{name}", cluster_id=cluster.id,
                     template_id=template.id, clone=clone), actor=SYSTEM)

    def volume_path(self, vm_or_template_id: str) -> Path:
        """The top volume of the first disk of a VM or template."""
        store = self.engine.ctx.store
        attachment = store.attachments.where(vm_id=vm_or_template_id)[0]
        return self.disk_path(store.disks.get(attachment.disk_id))

    def disk_path(self, disk: Disk) -> Path:
        """Where the local host keeps the disk's top volume (the engine never knows)."""
        assert self.engine.local_agent is not None
        return self.engine.local_agent.storage.volume_path(
            VolumeId(disk.storage_domain_id, disk.id, disk.volume_id))


def make_engine(directory: Path, prefix: str, demo_disk: str = "",
                storage_path: Path | None = None) -> Engine:
    config = development_config(directory).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": demo_disk})
    if storage_path is not None:
        config = config.replace(storage={"path": storage_path, "backing": "tmpfs"})
    engine = Engine(config)
    engine.start()
    return engine


def stop_engine(engine: Engine, prefix: str) -> None:
    """Power off what this test started (only our own, prefixed domains), then stop."""
    for vm in engine.ctx.store.vms.all():
        if vm.status is not VmStatus.DOWN and vm.host_id is not None:
            with contextlib.suppress(Exception):  # already gone
                engine.ctx.hosts.agent(vm.host_id).power_off(vm.id)
    engine.stop()


@pytest.fixture
def lab() -> Iterator[Lab]:
    prefix = f"img{secrets.token_hex(3)}-"
    directory = sandbox.state_dir(prefix)
    try:
        engine = make_engine(directory, prefix)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        yield Lab(engine, directory, prefix)
    finally:
        stop_engine(engine, prefix)
        shutil.rmtree(directory, ignore_errors=True)


def qemu_io(path: Path, command: str, *, fmt: str = "qcow2") -> str:
    result = subprocess.run(["qemu-io", "-f", fmt, "-c", command, str(path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0 or "failed" in result.stdout.lower():
        raise AssertionError(f"qemu-io {command!r} on {path}: {result.stdout}{result.stderr}")
    return result.stdout


def pattern_at(path: Path, offset: int, byte: int, length: int = 65536) -> bool:
    """Whether ``length`` bytes at ``offset`` of the disk (through its chain) are ``byte``."""
    result = subprocess.run(["qemu-io", "-r", "-U", "-c",
                             f"read -P {byte} {offset} {length}", str(path)],
                            capture_output=True, text=True, check=False)
    return result.returncode == 0 and "Pattern verification failed" not in result.stdout


@pytest.fixture
def data_template(lab: Lab, tmp_path: Path) -> Template:
    """``make_data_template`` in the test's lab."""
    return make_data_template(lab, tmp_path)


def make_data_template(lab: Lab, tmp_path: Path) -> Template:
    """A template with one 64 MiB disk whose first 64 KiB are 0x11."""
    image = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), str(64 * MiB)],
                   check=True)
    qemu_io(image, "write -P 0x11 0 64k")
    domain = lab.engine.ctx.store.storage_domains.get_by_name(RAM_DOMAIN)
    return lab.engine.templates.import_disk_image(image, name=f"{lab.prefix}data",
                                                  domain=domain, actor=SYSTEM, memory=128 * MiB)


BOOT_TIMEOUT = 90.0  # TCG on a shared, loaded machine
READY = r"^VIRTSTICK-GUEST-READY\r?$"
MARKER = r"^VIRTSTICK-DISK-MARKER=(.*?)\r?$"


@dataclass
class GuestLab(Lab):
    demo: Template

    def start(self, vm: Vm) -> GuestConsole:
        """Start the VM and wait until its guest is ready; the console is closed at teardown."""
        console = self.console(vm)
        console.wait_for(r"(?s)\A.*", 0)  # the log is appended to: skip earlier boots
        self.engine.vms.start(vm.id, actor=SYSTEM)
        console.wait_for(READY, BOOT_TIMEOUT)
        return console

    def console(self, vm: Vm) -> GuestConsole:
        agent = self.engine.ctx.hosts.any()
        console = GuestConsole(*agent.console_paths(vm.id))
        self.consoles.append(console)
        return console

    def stop(self, vm: Vm) -> None:
        """Power off and wait for Down. A late libvirt "shutdown" event can follow the
        "stopped" one and leave the VM powering_down; reconciling with the host settles it."""
        host_id = self.engine.ctx.store.vms.get(vm.id).host_id
        self.engine.vms.stop(vm.id, actor=SYSTEM)
        deadline = time.monotonic() + 30
        while self.engine.ctx.store.vms.get(vm.id).status is not VmStatus.DOWN:
            assert time.monotonic() < deadline, "the VM did not turn down"
            time.sleep(0.2)
            if host_id is not None:
                self.engine.reconciler.host(host_id)

    @property
    def consoles(self) -> list[GuestConsole]:
        found: list[GuestConsole] = self.__dict__.setdefault("_consoles", [])
        return found


def write_marker(console: GuestConsole, value: str) -> None:
    console.send(f"marker write {value}")
    console.wait_for(rf"^VIRTSTICK-MARKER-WRITTEN={value}\r?$", 30)


def read_marker(console: GuestConsole) -> str:
    console.send("marker read")
    return console.wait_for(MARKER, 30).group(1)


@pytest.fixture
def guest_lab(demo_disk: Path) -> Iterator[GuestLab]:
    prefix = f"img{secrets.token_hex(3)}-"
    directory = sandbox.state_dir(prefix)
    try:
        engine = make_engine(directory, prefix, demo_disk=str(demo_disk))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        for job in engine.ctx.store.jobs.all():
            engine.jobs.wait(job.id, 300)
        demo = engine.ctx.store.templates.get_by_name("Demo")
        lab = GuestLab(engine, directory, prefix, demo)
        yield lab
        for console in lab.consoles:
            console.close()
    finally:
        stop_engine(engine, prefix)
        shutil.rmtree(directory, ignore_errors=True)
