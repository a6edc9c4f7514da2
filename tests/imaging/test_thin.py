"""Thin provisioning: sizes per disk and domain, warnings, and a full RAM domain that pauses
a real guest and lets it go on, uncorrupted, when space is freed."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import VmStatus
from appliance.engine.model import MiB
from appliance.errors import InsufficientResources, InvalidInput
from tests import sandbox
from tests.imaging.conftest import (
    GuestLab,
    data_template,
    make_engine,
    qemu_io,
    read_marker,
    stop_engine,
)


def test_sizes_and_overcommit_warning(tmp_path: Path) -> None:
    with tmpfs_lab(None, 64) as lab:
        template = data_template.__wrapped__(lab, tmp_path)  # type: ignore[attr-defined]
        vm = lab.vm("thin", template)
        store = lab.engine.ctx.store
        disk = store.disks.get(store.attachments.where(vm_id=vm.id)[0].disk_id)
        empty = lab.engine.thin.disk_fill(disk)
        assert empty.virtual == 64 * MiB and empty.actual < MiB  # a layer costs nothing yet
        qemu_io(lab.volume_path(vm.id), "write -P 0x1 0 4M")
        assert lab.engine.thin.disk_fill(disk).actual >= 4 * MiB

        domain = store.storage_domains.get(disk.storage_domain_id)
        fill = lab.engine.thin.domain_fill(domain)
        assert fill.committed == 2 * 64 * MiB and fill.capacity == 64 * MiB
        assert fill.overcommit_ratio == 2.0
        with pytest.raises(InvalidInput):
            lab.engine.thin.set_overcommit(domain.id, 5, actor=SYSTEM)
        lab.engine.thin.check()
        assert not [e for e in lab.engine.events.recent() if e.code == "storage_overcommit"]
        lab.engine.thin.set_overcommit(domain.id, 210, actor=SYSTEM)  # 200 % promised
        lab.engine.thin.check()
        lab.engine.thin.check()
        warnings = [e for e in lab.engine.events.recent() if e.code == "storage_overcommit"]
        assert len(warnings) == 1 and "near its limit" in warnings[0].description
        with pytest.raises(InsufficientResources, match="overcommit limit"):
            lab.vm("one-too-many", template)
        assert store.vms.where(name=f"{lab.prefix}one-too-many") == []


@contextlib.contextmanager
def tmpfs_lab(demo_disk: Path | None, size_mib: int) -> Iterator[GuestLab]:
    prefix = f"img{secrets.token_hex(3)}-"
    directory = sandbox.state_dir(prefix)
    mount = directory / "ram"
    mount.mkdir(mode=0o755)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0755", "tmpfs",
                    str(mount)], check=True)
    engine = None
    try:
        engine = make_engine(directory, prefix, demo_disk=str(demo_disk or ""),
                             storage_path=mount)
        for job in engine.ctx.store.jobs.all():
            engine.jobs.wait(job.id, 300)
        demo = engine.ctx.store.templates.by_name("Demo") or engine.ctx.store.templates.all()[0]
        lab = GuestLab(engine, directory, prefix, demo)
        yield lab
        for console in lab.consoles:
            console.close()
    finally:
        if engine is not None:
            stop_engine(engine, prefix)
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _wait(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow
def test_full_ram_domain_pauses_and_resumes(demo_disk: Path) -> None:
    with tmpfs_lab(demo_disk, 160) as lab:
        vm = lab.vm("fill", lab.demo)
        console = lab.start(vm)
        mount = Path(lab.engine.ctx.store.storage_domains.all()[0].path)
        filler = mount / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1M"], capture_output=True,
                       check=False)  # until the tmpfs is full
        console.send("marker write after-full")
        _wait(lambda: lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.PAUSED, 60,
              "the guest did not pause on the full domain")
        codes = {e.code for e in lab.engine.events.recent(vm_id=vm.id)}
        assert "vm_paused_io_error" in codes
        lab.engine.thin.check()
        assert lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.PAUSED  # still full
        assert any(e.code == "storage_low" for e in lab.engine.events.recent())

        filler.unlink()
        _wait(lambda: lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.UP, 30,
              "the guest was not resumed when space came back")
        console.wait_for(r"^VIRTSTICK-MARKER-WRITTEN=after-full\r?$", 30)
        assert read_marker(console) == "after-full"
        assert any(e.code == "vm_resumed_space" for e in lab.engine.events.recent(vm_id=vm.id))
        check = subprocess.run(["qemu-img", "check", "-U", str(lab.volume_path(vm.id))],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
