"""Fixtures for image management tests: a real engine on libvirt (QEMU TCG) in a state
directory QEMU can traverse, and a small template whose disk holds known data."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.cli import development_config
from appliance.engine.authz import SYSTEM
from appliance.engine.bootstrap import RAM_DOMAIN
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.model import MiB, Template, Vm
from appliance.engine.vms import VmCreate

STATE_ROOT = Path("/var/tmp")


@dataclass
class Lab:
    engine: Engine
    state_dir: Path
    prefix: str

    def vm(self, name: str, template: Template, *, clone: bool = False) -> Vm:
        cluster = self.engine.store.clusters.all()[0]
        return self.engine.vms.create(
            VmCreate(name=f"{self.prefix}{name}", cluster_id=cluster.id,
                     template_id=template.id, clone=clone), actor=SYSTEM)

    def volume_path(self, vm_or_template_id: str) -> Path:
        """The top volume of the first disk of a VM or template."""
        store = self.engine.store
        attachment = store.attachments.where(vm_id=vm_or_template_id)[0]
        disk = store.disks.get(attachment.disk_id)
        domain = store.storage_domains.get(disk.storage_domain_id)
        return Path(domain.path) / domain.id / "images" / disk.id / disk.volume_id


def state_dir(prefix: str) -> Path:
    """A directory QEMU (libvirt-qemu) can traverse: pytest's tmp_path is 0700."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=STATE_ROOT))
    path.chmod(0o755)
    return path


def make_engine(directory: Path, prefix: str, demo_disk: str = "") -> Engine:
    config = development_config(directory).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": demo_disk})
    engine = Engine(config)
    engine.start()
    return engine


def stop_engine(engine: Engine, prefix: str) -> None:
    """Power off what this test started (only our own, prefixed domains), then stop."""
    for vm in engine.store.vms.all():
        if vm.status is not VmStatus.DOWN and vm.host_id is not None:
            try:
                engine.ctx.hosts.agent(vm.host_id).power_off(vm.id)
            except Exception:  # already gone
                pass
    engine.stop()


@pytest.fixture
def lab() -> Iterator[Lab]:
    prefix = f"img{secrets.token_hex(3)}-"
    directory = state_dir(prefix)
    engine = make_engine(directory, prefix)
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
    """A template with one 64 MiB disk whose first 64 KiB are 0x11."""
    image = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), str(64 * MiB)],
                   check=True)
    qemu_io(image, "write -P 0x11 0 64k")
    domain = lab.engine.store.storage_domains.get_by_name(RAM_DOMAIN)
    return lab.engine.templates.import_disk_image(image, name=f"{lab.prefix}data",
                                                  domain=domain, actor=SYSTEM, memory=128 * MiB)
