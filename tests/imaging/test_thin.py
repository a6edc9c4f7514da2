"""Thin provisioning: sizes per disk and domain, warnings, and a full RAM domain that pauses
a real guest and lets it go on, uncorrupted, when space is freed."""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import subprocess
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.demoguest.console import GuestConsole
from appliance.engine.authz import SYSTEM
from appliance.engine.bootstrap import RAM_DOMAIN
from appliance.engine.enums import VmStatus
from appliance.engine.model import MiB
from appliance.errors import InsufficientResources, InvalidInput
from firstboot import storage
from firstboot.answers import StorageAnswers
from firstboot.storage_sizing import Backing
from tests import hostmemory, sandbox
from tests.imaging.conftest import (
    GuestLab,
    make_data_template,
    make_engine,
    qemu_io,
    read_marker,
    stop_engine,
)

ZRAM_CONTROL = Path("/sys/class/zram-control")
SYS_BLOCK = Path("/sys/block")


def test_sizes_and_overcommit_warning(tmp_path: Path) -> None:
    with tmpfs_lab(None, 64) as lab:
        template = make_data_template(lab, tmp_path)
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
def tmpfs_lab(demo_disk: Path | None, size_mib: int,
              backing: Backing = Backing.TMPFS) -> Iterator[GuestLab]:
    """An engine whose RAM domain is a tmpfs of its own, or an ext4 on a new zram device
    (made and removed by the wizard's own code)."""
    prefix = f"img{secrets.token_hex(3)}-"
    directory = sandbox.state_dir(prefix)
    mount = directory / "ram"
    mount.mkdir(mode=0o755)
    prepared = None
    if backing is Backing.ZRAM:
        prepared = storage.prepare(StorageAnswers(Backing.ZRAM, size_mib), path=mount,
                                   zram_control=ZRAM_CONTROL, sys_block=SYS_BLOCK)
        mount.chmod(0o755)
    else:
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
        if prepared is not None:
            _release_zram(prepared)
        else:
            subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _release_zram(prepared: storage.PreparedStorage, timeout: float = 120.0) -> None:
    """Unmount and remove the test's zram device. A mount namespace made on this shared
    machine while it was mounted (a QEMU's, a lab host's) holds a copy of the mount until
    it ends, and the device stays busy until then: try again for a while, once more when the
    tests end, then say so."""
    if not _try_release(prepared, timeout):
        atexit.register(_last_try, prepared)


def _try_release(prepared: storage.PreparedStorage, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            storage.release(prepared, zram_control=ZRAM_CONTROL, sys_block=SYS_BLOCK)
            return True
        except storage.StorageSetupFailed as exc:
            if time.monotonic() > deadline:
                warnings.warn(f"zram{prepared.zram_id} is still busy: {exc.detail}",
                              stacklevel=3)
                return False
            time.sleep(2)


def _last_try(prepared: storage.PreparedStorage) -> None:
    _try_release(prepared, 300.0)


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
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


FILL = 200 * MiB
FREED = 10 * MiB  # what may stay of a freed fill: metadata, the guest's own writes
FILL_TIMEOUT = 300.0  # 200 MiB of random data from a TCG guest on a busy machine


class RamDomain:
    """The RAM domain as the engine reports it (its storage domain statistics) and, on zram,
    the RAM the device really holds."""

    def __init__(self, lab: GuestLab) -> None:
        self.lab = lab
        self.domain = lab.engine.ctx.store.storage_domains.get_by_name(RAM_DOMAIN)

    def used(self) -> int:
        return self.lab.engine.thin.domain_fill(self.domain).used

    def settled_used(self, below: int, timeout: float = 15.0) -> int:
        """The used figure once it falls under ``below`` (ext4 on zram frees at its next
        journal commit, within seconds), or as it is when the timeout passes."""
        used, _ = hostmemory.wait_until(self.used, lambda u: u < below, timeout=timeout)
        return used


def _guest(console: GuestConsole, command: str, reply: str) -> None:
    console.send(command)
    console.wait_for(rf"^VIRTSTICK-{reply}\r?$", FILL_TIMEOUT)


def _fill(console: GuestConsole) -> None:
    _guest(console, f"disk fill {FILL // MiB}", f"DISK-FILLED={FILL // MiB}")


def _trim(console: GuestConsole) -> None:
    _guest(console, "disk free", "DISK-FREED=ok")


def _zram_ram_bytes(lab: GuestLab) -> int:
    """RAM the zram device under the lab's domain holds (mm_stat's mem_used_total), once the
    file system has written back (and discarded) what it caches."""
    mount = Path(lab.engine.ctx.store.storage_domains.get_by_name(RAM_DOMAIN).path)
    subprocess.run(["sync", "-f", str(mount)], check=True)
    device = os.stat(mount).st_dev
    name = Path(f"/sys/dev/block/{os.major(device)}:{os.minor(device)}").resolve().name
    return int((SYS_BLOCK / name / "mm_stat").read_text().split()[2])


@pytest.mark.slow
@pytest.mark.parametrize("backing", [
    Backing.TMPFS,
    pytest.param(Backing.ZRAM, marks=pytest.mark.skipif(
        not ZRAM_CONTROL.exists(), reason="the kernel has no zram")),
], ids=["tmpfs", "zram"])
def test_freed_guest_data_goes_back_to_the_ram_domain(demo_disk: Path,
                                                      backing: Backing) -> None:
    """A guest's TRIM, merging away a snapshot (live middle and active layers, offline) and
    removing a disk each give the RAM domain its bytes back at once, and the engine's
    used figure says so; on zram the device's own RAM follows."""
    with tmpfs_lab(demo_disk, 1024, backing) as lab:
        ram = RamDomain(lab)
        vm = lab.vm("trim", lab.demo)
        console = lab.start(vm)
        empty = ram.used()
        snapshots, actor = lab.engine.snapshots, SYSTEM

        if backing is Backing.ZRAM:
            empty_ram = _zram_ram_bytes(lab)
        _fill(console)
        assert ram.used() > empty + FILL - FREED
        if backing is Backing.ZRAM:
            full_ram = _zram_ram_bytes(lab)
        _trim(console)  # the guest TRIMs: holes in the VM's top volume
        assert ram.settled_used(empty + FREED) < empty + FREED
        if backing is Backing.ZRAM:  # ext4 discards what it freed at its journal commit
            held, _ = hostmemory.wait_until(lambda: _zram_ram_bytes(lab),
                                            lambda b: b < full_ram - FILL * 9 // 10,
                                            timeout=30)
            assert held < full_ram - FILL * 9 // 10, (
                f"zram held {empty_ram / MiB:.0f} MiB, {full_ram / MiB:.0f} MiB filled, "
                f"{held / MiB:.0f} MiB after the TRIM")

        _fill(console)  # into the top; then freed in a snapshot's layer above it
        kept = snapshots.create(vm.id, description="holds the fill", actor=actor)
        _trim(console)
        assert ram.used() > empty + FILL - FREED  # the snapshot's volume still holds it
        later = snapshots.create(vm.id, description="on top", actor=actor)
        snapshots.remove(vm.id, kept.id, actor=actor)  # live merge of a middle layer
        assert ram.settled_used(empty + FREED) < empty + FREED

        _fill(console)
        freed_on_top = snapshots.create(vm.id, description="active", actor=actor)
        _trim(console)
        snapshots.remove(vm.id, freed_on_top.id, actor=actor)  # live merge of the top
        assert ram.settled_used(empty + FREED) < empty + FREED
        snapshots.remove(vm.id, later.id, actor=actor)

        _fill(console)
        offline = snapshots.create(vm.id, description="offline", actor=actor)
        _trim(console)
        lab.stop(vm)
        snapshots.remove(vm.id, offline.id, actor=actor)  # qemu-img commit
        assert ram.settled_used(empty + FREED) < empty + FREED

        console = lab.start(vm)
        _fill(console)
        lab.stop(vm)
        assert ram.used() > empty + FILL - FREED
        disk_id = lab.engine.ctx.store.attachments.where(vm_id=vm.id)[0].disk_id
        lab.engine.vms.detach_disk(vm.id, disk_id, actor=actor, remove=True)
        assert ram.settled_used(empty) < empty  # the VM's whole layer is gone
