"""The ISO library: uploads checked on the way in, CD-ROM attach, booting from an ISO."""

from __future__ import annotations

import hashlib
import io
import subprocess
from pathlib import Path

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import BootDevice, DiskStatus
from appliance.engine.launch_requests import launch_request
from appliance.engine.model import Template
from appliance.errors import ImageRejected, InvalidState
from appliance.vdsm.storage_interface import VolumeId
from tests.imaging.conftest import BOOT_TIMEOUT, GuestLab, Lab

GRUB_CFG = """serial --unit=0 --speed=115200
terminal_output serial console
set timeout=0
menuentry iso {
  linux /vmlinuz console=ttyS0 virtstick-booted-from-iso
  initrd /initrd.img
}
"""


def small_iso(tmp: Path) -> Path:
    root = tmp / "isoroot"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    iso = tmp / "small.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(root)],
                   check=True, capture_output=True)
    return iso


def bootable_iso(tmp: Path, demo_disk: Path) -> Path:
    """A GRUB El Torito ISO with the demo guest's kernel and initramfs."""
    raw = tmp / "demo.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(demo_disk), str(raw)], check=True)
    root = tmp / "bootroot"
    (root / "boot" / "grub").mkdir(parents=True)
    subprocess.run(["mcopy", "-i", f"{raw}@@1M", "::/vmlinuz", "::/initrd.img", str(root)],
                   check=True)
    (root / "boot" / "grub" / "grub.cfg").write_text(GRUB_CFG)
    iso = tmp / "boot.iso"
    subprocess.run(["grub-mkrescue", "-o", str(iso), str(root)], check=True,
                   capture_output=True)
    raw.unlink()
    return iso


def _domain(lab: Lab) -> str:
    return lab.engine.ctx.store.storage_domains.all()[0].id


def test_upload_checks_and_attach(lab: Lab, data_template: Template, tmp_path: Path) -> None:
    iso = small_iso(tmp_path)
    data = iso.read_bytes()
    seen: list[int] = []
    disk = lab.engine.isos.upload(io.BytesIO(data), name="small.iso",
                                  storage_domain_id=_domain(lab), actor=SYSTEM, size=len(data),
                                  sha256=hashlib.sha256(data).hexdigest(), progress=seen.append)
    assert disk.status is DiskStatus.OK and disk.provisioned_size == len(data)
    assert seen[-1] == len(data)
    assert [d.id for d in lab.engine.isos.list()] == [disk.id]
    assert lab.disk_path(disk).read_bytes() == data

    vm = lab.vm("cd", data_template)
    vm = lab.engine.isos.insert(vm.id, disk.id, actor=SYSTEM, boot_first=True)
    assert vm.boot[0] is BootDevice.CDROM and vm.cdrom_file_id == disk.id
    host = lab.engine.hosts.list()[0]
    request = launch_request(lab.engine.ctx, vm, host)  # what the host is asked to run
    assert request.cdrom == VolumeId(disk.storage_domain_id, disk.id, disk.volume_id)
    with pytest.raises(InvalidState, match="eject"):
        lab.engine.isos.remove(disk.id, actor=SYSTEM)
    lab.engine.isos.insert(vm.id, "", actor=SYSTEM)
    lab.engine.isos.remove(disk.id, actor=SYSTEM)
    assert lab.engine.isos.list() == []


@pytest.mark.parametrize("case", ["checksum", "short", "not-iso", "too-big"])
def test_bad_upload_leaves_nothing(lab: Lab, tmp_path: Path, case: str) -> None:
    data = small_iso(tmp_path).read_bytes()
    kwargs: dict[str, object] = {"size": len(data)}
    if case == "checksum":
        kwargs["sha256"] = "0" * 64
    elif case == "short":
        kwargs["size"] = len(data) + 10
    elif case == "not-iso":
        data = b"\0" * 70000
        kwargs["size"] = len(data)
    elif case == "too-big":
        kwargs["size"] = None
        lab.engine.ctx.config = lab.engine.ctx.config.replace(storage={"iso_max_size": 40000})
    disks_before = {d.id for d in lab.engine.ctx.store.disks.all()}
    domain = lab.engine.ctx.store.storage_domains.all()[0]
    images = Path(domain.path) / domain.id / "images"
    files_before = set(images.rglob("*"))
    with pytest.raises(ImageRejected):
        lab.engine.isos.upload(io.BytesIO(data), name="bad.iso", storage_domain_id=domain.id,
                               actor=SYSTEM, **kwargs)  # type: ignore[arg-type]
    assert {d.id for d in lab.engine.ctx.store.disks.all()} == disks_before
    assert set(images.rglob("*")) == files_before


@pytest.mark.slow
def test_vm_boots_from_iso(guest_lab: GuestLab, demo_disk: Path, tmp_path: Path) -> None:
    iso = bootable_iso(tmp_path, demo_disk)
    with iso.open("rb") as stream:
        disk = guest_lab.engine.isos.upload(stream, name="boot.iso",
                                            storage_domain_id=_domain(guest_lab), actor=SYSTEM)
    vm = guest_lab.vm("isoboot", guest_lab.demo)
    guest_lab.engine.isos.insert(vm.id, disk.id, actor=SYSTEM, boot_first=True)
    console = guest_lab.console(vm)
    console.wait_for(r"(?s)\A.*", 0)
    guest_lab.engine.vms.start(vm.id, actor=SYSTEM)
    console.wait_for(r"Command line:.*virtstick-booted-from-iso", BOOT_TIMEOUT)
    console.wait_for(r"^VIRTSTICK-GUEST-READY\r?$", BOOT_TIMEOUT)
