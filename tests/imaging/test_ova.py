# ruff: noqa: E501  (the OVF sample keeps VMware's long lines)
"""OVA export and import: oVirt's layout, a round trip, VMware-style packages, bad input."""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from appliance.engine.audit import AuditResult
from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.enums import DiskInterface, JobStatus, VmStatus
from appliance.engine.imports.model import OvfDisk, OvfNic, OvfProducer, OvfSystem
from appliance.engine.imports.pipeline import ImportTarget
from appliance.engine.model import MiB, Template
from appliance.engine.ova import ovf_reader, ovf_writer
from appliance.engine.users import ADMIN_USER_ID
from appliance.errors import ImageRejected, InsufficientResources
from tests.imaging.conftest import Lab, qemu_io

OFFSET = 1024 * 1024
ADMIN = Actor(user_id=ADMIN_USER_ID, name="admin@internal", superuser=True, address="192.0.2.9")


def disk_sha256(path: Path, tmp: Path) -> str:
    """The checksum of what a disk shows (its whole chain), as raw bytes."""
    raw = tmp / f"{path.name}.raw"
    subprocess.run(["qemu-img", "convert", "-U", "-O", "raw", str(path), str(raw)], check=True)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    raw.unlink()
    return digest


def target(lab: Lab, **changes: object) -> ImportTarget:
    engine = lab.engine
    base = ImportTarget(cluster_id=engine.clusters.default().id,
                        storage_domain_id=engine.storage_domains.default().id)
    return ImportTarget(**{**base.__dict__, **changes})


def wait(lab: Lab, job_id: str) -> JobStatus:
    return lab.engine.jobs.wait(job_id, 300).status


def test_ovf_written_is_read_back() -> None:
    system = OvfSystem(
        name="web", memory=512 * MiB, cpu_sockets=2, cpu_cores=2, cpu_threads=1,
        os_type="rhel_9x64", id="0d2c1c1e-0000-4000-8000-000000000001",
        disks=(OvfDisk(disk_id="img-1", file_href="vol-1", capacity=3 * MiB * 1024 + 5,
                       interface="virtio", bootable=True, alias="web_disk", image_id="img-1",
                       file_size=12800, sparse=False),),
        nics=(OvfNic(name="nic1", network="ovirtmgmt", model="e1000",
                     mac="56:6f:00:00:00:01"),))
    data = ovf_writer.write(system)
    assert data.startswith(b"<?xml")
    back = ovf_reader.read(data)
    assert back.producer is OvfProducer.OVIRT
    assert (back.name, back.memory, back.cpu_sockets, back.cpu_cores, back.os_type) == (
        "web", 512 * MiB, 2, 2, "rhel_9x64")
    assert back.disks == system.disks
    assert back.nics == system.nics
    assert back.unmapped == ()


def test_ova_round_trip_keeps_configuration_and_data(lab: Lab, data_template: Template,
                                                     tmp_path: Path) -> None:
    vm = lab.vm("export", data_template)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x5a {OFFSET} 256k")
    lab.engine.snapshots.create(vm.id, description="s", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x6b {2 * OFFSET} 64k")
    before = disk_sha256(lab.volume_path(vm.id), tmp_path)

    job = lab.engine.ova_exporter.export_vm(vm.id, directory=str(tmp_path),
                                            filename="vm.ova", actor=SYSTEM)
    assert lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.IMAGE_LOCKED
    assert wait(lab, job.id) is JobStatus.FINISHED
    assert lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.DOWN

    ova = tmp_path / "vm.ova"
    with tarfile.open(ova) as tar:
        names = tar.getnames()
    disk = lab.engine.ctx.store.disks.get(lab.volume_path(vm.id).parent.name)
    assert names == ["vm.ovf", disk.volume_id]  # oVirt's layout: the OVF first
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers

    imported = lab.engine.importer.import_ova(ova, target(lab, name=f"{lab.prefix}back"),
                                              actor=SYSTEM)
    assert imported.kind == "vm" and imported.unmapped == ()
    assert wait(lab, imported.job.id) is JobStatus.FINISHED
    copy = lab.engine.ctx.store.vms.get(imported.id)
    original = lab.engine.ctx.store.vms.get(vm.id)
    for field in ("memory", "cpu_sockets", "cpu_cores", "cpu_threads", "os_type", "status"):
        assert getattr(copy, field) == getattr(original, field), field
    attachment = lab.engine.ctx.store.attachments.where(vm_id=copy.id)[0]
    assert attachment.bootable and attachment.interface is DiskInterface.VIRTIO
    assert len(lab.engine.ctx.store.nics.where(vm_id=copy.id)) == len(
        lab.engine.ctx.store.nics.where(vm_id=vm.id))
    assert disk_sha256(lab.volume_path(copy.id), tmp_path) == before


def test_template_exports_as_template(lab: Lab, data_template: Template, tmp_path: Path) -> None:
    job = lab.engine.ova_exporter.export_template(data_template.id, directory=str(tmp_path),
                                                  actor=SYSTEM)
    assert wait(lab, job.id) is JobStatus.FINISHED
    ova = tmp_path / f"{data_template.name}.ova"
    with tarfile.open(ova) as tar:
        assert tar.getnames()[0] == "template.ovf"
    imported = lab.engine.importer.import_ova(ova, target(lab, name=f"{lab.prefix}t2"),
                                              actor=SYSTEM)
    assert imported.kind == "template"
    assert wait(lab, imported.job.id) is JobStatus.FINISHED
    vm = lab.vm("fromimported", lab.engine.ctx.store.templates.get(imported.id))
    assert vm.template_id == imported.id


VMWARE_OVF = """<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-1" xmlns="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
 xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
 xmlns:vmw="http://www.vmware.com/schema/ovf"
 xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="{size}"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="{capacity}" ovf:capacityAllocationUnits="byte * 2^20" ovf:diskId="vmdisk1"
      ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection><Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"><Description>The VM Network network</Description></Network>
  </NetworkSection>
  {extra}
  <VirtualSystem ovf:id="legacy-app">
    <Info>A virtual machine</Info><Name>legacy app</Name>
    <OperatingSystemSection ovf:id="96" vmw:osType="debian10_64Guest"><Info>OS</Info></OperatingSystemSection>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType></System>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:ElementName>4 virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>4</rasd:VirtualQuantity><vmw:CoresPerSocket ovf:required="false">2</vmw:CoresPerSocket></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>768MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>768</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>SCSI Controller 0</rasd:ElementName><rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard Disk 1</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID>
        <rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>7</rasd:AddressOnParent><rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName>
        <rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>E1000</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType></Item>
      <Item ovf:required="false"><rasd:ElementName>Sound Card 1</rasd:ElementName><rasd:InstanceID>6</rasd:InstanceID>
        <rasd:ResourceType>35</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="efi"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
"""


def make_vmware_ova(tmp: Path, *, extra: str = "", capacity_mib: int = 64,
                    vmdk: bytes | None = None, members: list[tuple[str, bytes]] | None = None,
                    ) -> Path:
    if vmdk is None:
        raw = tmp / "src.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(raw), "64M"], check=True)
        qemu_io(raw, "write -P 0x77 0 128k")
        out = tmp / "disk1.vmdk"
        subprocess.run(["qemu-img", "convert", "-O", "vmdk", "-o", "subformat=streamOptimized",
                        str(raw), str(out)], check=True)
        vmdk = out.read_bytes()
    ovf = VMWARE_OVF.format(size=len(vmdk), capacity=capacity_mib, extra=extra).encode()
    ova = tmp / "vmware.ova"
    with tarfile.open(ova, "w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members or [("legacy.ovf", ovf), ("disk1.vmdk", vmdk)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return ova


def test_vmware_ova_is_mapped_and_converted(lab: Lab, tmp_path: Path) -> None:
    ova = make_vmware_ova(tmp_path)
    imported = lab.engine.importer.import_ova(ova, target(lab), actor=SYSTEM)
    assert wait(lab, imported.job.id) is JobStatus.FINISHED
    vm = lab.engine.ctx.store.vms.get(imported.id)
    assert (vm.name, vm.memory, vm.cpu_sockets, vm.cpu_cores) == ("legacy_app", 768 * MiB, 2, 2)
    attachment = lab.engine.ctx.store.attachments.where(vm_id=vm.id)[0]
    assert attachment.interface is DiskInterface.SATA and attachment.bootable
    nic = lab.engine.ctx.store.nics.where(vm_id=vm.id)[0]
    assert nic.interface.value == "e1000"
    report = " | ".join(imported.unmapped)
    for words in ("sound card", "UEFI", "lsilogic", "VM Network", "debian10_64Guest"):
        assert words in report
    qemu_io(lab.volume_path(vm.id), "read -P 0x77 0 128k")  # the data came across


def test_the_audit_log_gives_an_import_its_jobs_outcome(lab: Lab, tmp_path: Path) -> None:
    """Accepted is not done: an import whose conversion fails in its job is audited as failed,
    with why; one that converts, as a success. One entry each."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "good").mkdir()
    corrupt = make_vmware_ova(tmp_path / "bad", vmdk=b"KDMV" + b"\xff" * 70000)
    failing = lab.engine.importer.import_ova(corrupt, target(lab), actor=ADMIN)
    job = lab.engine.jobs.wait(failing.job.id, 300)
    assert job.status is JobStatus.FAILED
    [entry] = lab.engine.audit.search(action="importer.import_ova")
    assert (entry.result, entry.user, entry.address) == (AuditResult.FAILED, ADMIN.name,
                                                         ADMIN.address)
    assert entry.target.endswith(f"({failing.id})")
    assert entry.detail == job.error and "Hard Disk 1" in entry.detail
    good = make_vmware_ova(tmp_path / "good")
    imported = lab.engine.importer.import_ova(good, target(lab), actor=ADMIN)
    assert wait(lab, imported.job.id) is JobStatus.FINISHED
    done, failed = lab.engine.audit.search(action="importer.import_ova")
    assert (done.result, done.detail, failed.id) == (AuditResult.SUCCESS, "", entry.id)


def _state(lab: Lab) -> tuple[set[str], set[str], set[str]]:
    store = lab.engine.ctx.store
    domain = store.storage_domains.all()[0]
    images = Path(domain.path) / domain.id / "images"
    return ({v.id for v in store.vms.all()}, {d.id for d in store.disks.all()},
            {p.name for p in images.iterdir()})


@pytest.mark.parametrize("case", ["truncated", "dotdot", "absolute", "symlink", "corrupt-vmdk",
                                  "too-big", "unknown-section", "not-tar", "backing-file"])
def test_bad_ova_is_refused_and_leaves_nothing(lab: Lab, tmp_path: Path, case: str) -> None:
    before = _state(lab)
    ova = _bad_ova(case, tmp_path)
    try:
        imported = lab.engine.importer.import_ova(ova, target(lab), actor=SYSTEM)
    except (ImageRejected, InsufficientResources) as exc:
        assert exc.detail  # refused up front, with a message
    else:
        job = lab.engine.jobs.wait(imported.job.id, 120)
        assert job.status is JobStatus.FAILED and job.error
    assert _state(lab) == before


def _bad_ova(case: str, tmp: Path) -> Path:
    good = make_vmware_ova(tmp)
    if case == "truncated":
        data = good.read_bytes()
        good.write_bytes(data[:len(data) - 20000])
        return good
    if case == "not-tar":
        good.write_bytes(b"this is not a tar archive" * 100)
        return good
    if case in ("dotdot", "absolute"):
        with tarfile.open(good) as tar:
            member = tar.extractfile("legacy.ovf")
            assert member is not None
            ovf = member.read()
        name = "../../etc/evil.vmdk" if case == "dotdot" else "/tmp/evil.vmdk"
        return make_vmware_ova(tmp, members=[("legacy.ovf", ovf), (name, b"x" * 512)])
    if case == "symlink":
        ova = tmp / "link.ova"
        with tarfile.open(ova, "w") as tar:
            info = tarfile.TarInfo("disk1.vmdk")
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/shadow"
            tar.addfile(info)
        return ova
    if case == "corrupt-vmdk":
        return make_vmware_ova(tmp, vmdk=b"KDMV" + b"\xff" * 70000)
    if case == "too-big":
        return make_vmware_ova(tmp, capacity_mib=1 << 40)  # an exbibyte promised
    if case == "unknown-section":
        return make_vmware_ova(tmp, extra='<FancySection><Info>new</Info></FancySection>')
    if case == "backing-file":
        image = tmp / "evil.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/hostname",
                        "-F", "raw", str(image), "64M"], check=True)
        return make_vmware_ova(tmp, vmdk=image.read_bytes())
    raise AssertionError(case)
