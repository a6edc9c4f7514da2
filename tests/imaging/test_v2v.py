"""V2V: a VMware VM (.vmx + .vmdk written by qemu-img) and a Xen guest (xl configuration)
mapped, converted and, for VMware, booted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import DiskInterface, JobStatus, NicInterface, VmStatus
from appliance.engine.imports.pipeline import ImportTarget
from appliance.engine.model import MiB
from appliance.engine.v2v import vmx, xen
from appliance.errors import ImageRejected
from tests.imaging.conftest import GuestLab, Lab, qemu_io

VMX = """.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "13"
displayName = "{name}"
memsize = "256"
numvcpus = "2"
cpuid.coresPerSocket = "2"
guestOS = "other4xlinux-64"
firmware = "bios"
{disk_bus}0.present = "TRUE"
{disk_bus}0.virtualDev = "lsilogic"
{disk_bus}0:0.present = "TRUE"
{disk_bus}0:0.fileName = "{disk}"
ide1:0.present = "TRUE"
ide1:0.deviceType = "cdrom-image"
ide1:0.fileName = "tools.iso"
ethernet0.present = "TRUE"
ethernet0.virtualDev = "vmxnet3"
ethernet0.networkName = "VM Network"
ethernet0.addressType = "generated"
ethernet0.generatedAddress = "00:0c:29:12:34:56"
sound.present = "TRUE"
usb.present = "TRUE"
"""


def make_vmx(directory: Path, source: Path, *, name: str, disk_bus: str = "sata",
             subformat: str = "monolithicSparse", disk: str = "disk.vmdk") -> Path:
    subprocess.run(["qemu-img", "convert", "-O", "vmdk", "-o", f"subformat={subformat}",
                    str(source), str(directory / "disk.vmdk")], check=True)
    path = directory / f"{name}.vmx"
    path.write_text(VMX.format(name=name, disk_bus=disk_bus, disk=disk))
    return path


def target(lab: Lab) -> ImportTarget:
    engine = lab.engine
    return ImportTarget(cluster_id=engine.clusters.default().id,
                        storage_domain_id=engine.storage_domains.default().id)


def small_disk(tmp: Path) -> Path:
    image = tmp / "src.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "32M"], check=True)
    qemu_io(image, "write -P 0x3c 0 64k")
    return image


def test_vmx_is_mapped(lab: Lab, tmp_path: Path) -> None:
    path = make_vmx(tmp_path, small_disk(tmp_path), name=f"{lab.prefix}vmw", disk_bus="scsi",
                    subformat="twoGbMaxExtentFlat")  # a descriptor with separate extents
    system, sources = vmx.read(path)
    assert (system.memory, system.cpu_sockets, system.cpu_cores) == (256 * MiB, 1, 2)
    assert [s.disk.interface for s in sources] == ["sata"]
    report = " | ".join(system.unmapped)
    for words in ("lsilogic", "vmxnet3", "CD-ROM", "sound card", "USB", "other4xlinux-64"):
        assert words in report
    imported = lab.engine.v2v.import_vmx(path, target(lab), actor=SYSTEM)
    assert lab.engine.jobs.wait(imported.job.id, 120).status is JobStatus.FINISHED
    vm = lab.engine.ctx.store.vms.get(imported.id)
    assert vm.status is VmStatus.DOWN and vm.name == f"{lab.prefix}vmw"
    nic = lab.engine.ctx.store.nics.where(vm_id=vm.id)[0]
    assert (nic.mac, nic.interface) == ("00:0c:29:12:34:56", NicInterface.VIRTIO)
    assert lab.engine.ctx.store.attachments.where(vm_id=vm.id)[0].interface is DiskInterface.SATA
    qemu_io(lab.volume_path(vm.id), "read -P 0x3c 0 64k")


def test_vmx_disk_outside_its_directory_is_refused(lab: Lab, tmp_path: Path) -> None:
    path = make_vmx(tmp_path, small_disk(tmp_path), name="evil", disk="../../etc/passwd")
    with pytest.raises(ImageRejected, match="beside the .vmx"):
        lab.engine.v2v.import_vmx(path, target(lab), actor=SYSTEM)
    descriptor = tmp_path / "sub"
    descriptor.mkdir()
    (descriptor / "disk.vmdk").write_text(
        '# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n'
        'RW 2048 FLAT "/etc/shadow" 0\n')
    (descriptor / "x.vmx").write_text(VMX.format(name="x", disk_bus="sata", disk="disk.vmdk"))
    with pytest.raises(ImageRejected, match="outside its own directory"):
        lab.engine.v2v.import_vmx(descriptor / "x.vmx", target(lab), actor=SYSTEM)
    assert lab.engine.ctx.store.vms.where(name="x") == []


def test_xen_guest_is_mapped(lab: Lab, tmp_path: Path) -> None:
    image = tmp_path / "guest.img"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(small_disk(tmp_path)), str(image)],
                   check=True)
    config = tmp_path / "guest.cfg"
    config.write_text(f"""
name = "{lab.prefix}xen"
type = "hvm"
memory = 384
vcpus = 2
disk = [ 'format=raw, vdev=hda, access=rw, target=guest.img',
         ',,hdc:cdrom,r' ]
vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,model=e1000' ]
usbdevice = "tablet"
""")
    system, _ = xen.read(config)
    assert (system.memory, system.cpu_sockets) == (384 * MiB, 2)
    report = " | ".join(system.unmapped)
    assert "xenbr0" not in report  # networks are reported by the importer
    assert "usbdevice" in report and "CD-ROM" in report
    imported = lab.engine.v2v.import_xen(config, target(lab), actor=SYSTEM)
    assert lab.engine.jobs.wait(imported.job.id, 120).status is JobStatus.FINISHED
    assert any("xenbr0" in item for item in imported.unmapped)
    vm = lab.engine.ctx.store.vms.get(imported.id)
    assert lab.engine.ctx.store.attachments.where(vm_id=vm.id)[0].interface is DiskInterface.IDE
    qemu_io(lab.volume_path(vm.id), "read -P 0x3c 0 64k")
    with pytest.raises(ImageRejected, match="not a plain"):
        xen.parse("import os\nos.system('true')\n")


@pytest.mark.slow
def test_vmware_vm_imports_and_boots(guest_lab: GuestLab, demo_disk: Path, tmp_path: Path
                                     ) -> None:
    """The demo guest as VMware would hold it (SATA disk, stream-optimized VMDK) boots."""
    directory = guest_lab.state_dir / "vmware"
    directory.mkdir()
    path = make_vmx(directory, demo_disk, name=f"{guest_lab.prefix}vmboot",
                    subformat="streamOptimized")
    imported = guest_lab.engine.v2v.import_vmx(path, target(guest_lab), actor=SYSTEM)
    job = guest_lab.engine.jobs.wait(imported.job.id, 300)
    assert job.status is JobStatus.FINISHED, job.error
    vm = guest_lab.engine.ctx.store.vms.get(imported.id)
    guest_lab.start(vm)  # waits for VIRTSTICK-GUEST-READY on the serial console
