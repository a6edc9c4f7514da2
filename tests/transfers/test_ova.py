"""OVAs a real oVirt takes: an export read back with ovirt-engine's own rules (OvfOvaReader's
lookups, extract_ova.py's walk over the tar), each disk member readable in place by qemu-img,
the SDK's OVA upload examples taking it; and an OVA written by the test from oVirt's rules
(pack_ova.py's archive, OvfOvaWriter's descriptor) imported and booted."""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest
from lxml import etree

from tests.transfers.conftest import (
    Clients,
    MiB,
    disk_checksum,
    unique,
    upload,
)

OVF = "http://schemas.dmtf.org/ovf/envelope/1"
RASD = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
OVIRT = "http://www.ovirt.org/ovf"
NS = {"ovf": OVF, "rasd": RASD}
TAR_BLOCK = 512
READY = "VIRTSTICK-GUEST-READY"


def walk_like_extract_ova(ova: Path) -> dict[str, tuple[int, int]]:
    """Members as oVirt's extract_ova.py walks them: it skips an .ovf member rounded up to a
    512-byte block but a disk member by its exact size, so a disk not padded to 512 bytes
    puts every later header out of place. Returns name -> (data offset, size)."""
    found: dict[str, tuple[int, int]] = {}
    with ova.open("rb") as archive:
        while True:
            header = archive.read(TAR_BLOCK)
            assert len(header) == TAR_BLOCK, "the archive ends without its NUL blocks"
            if header == b"\0" * TAR_BLOCK:
                return found
            name = header[0:100].split(b"\0", 1)[0].decode()
            size = int(header[124:136].split(b"\0", 1)[0].strip() or b"0", 8)
            found[name] = (archive.tell(), size)
            jump = size + (-size % TAR_BLOCK) if name.endswith(("ovf", "dat")) else size
            archive.seek(jump, 1)


def capacity_unit(text: str) -> int:
    """OvfOvaReader.parseCapacityUnit: "byte", then "* N" or "* N^M" factors."""
    elements = text.split("*")
    assert elements[0].strip() == "byte", text
    factor = 1
    for element in (e.strip() for e in elements[1:]):
        base, _, power = element.partition("^")
        factor *= int(base) ** int(power) if power else int(base)
    return factor


def read_like_ovirt(descriptor: bytes) -> dict[str, Any]:
    """What OvfOvaReader takes from the OVF, by its lookups (qualified attribute names)."""
    root = etree.fromstring(descriptor)
    assert root.tag == f"{{{OVF}}}Envelope"
    system = root.find(f"{{{OVF}}}VirtualSystem")
    assert system is not None, "no VirtualSystem element (oVirt does not read Section types)"
    uuid.UUID(system.get(f"{{{OVF}}}id"))
    files = {f.get(f"{{{OVF}}}id"): f for f in root.iterfind("ovf:References/ovf:File", NS)}
    disks = {}
    for disk in root.iterfind("ovf:DiskSection/ovf:Disk", NS):
        file_ref = disk.get(f"{{{OVF}}}fileRef")
        uuid.UUID(file_ref)
        uuid.UUID(disk.get(f"{{{OVF}}}diskId"))
        size = int(disk.get(f"{{{OVF}}}capacity")) * capacity_unit(
            disk.get(f"{{{OVF}}}capacityAllocationUnits"))
        description = disk.get(f"{{{OVF}}}description", disk.get(f"{{{OVF}}}diskId"))
        disks[description] = {"href": files[file_ref].get(f"{{{OVF}}}href"), "size": size,
                              "file_size": int(files[file_ref].get(f"{{{OVF}}}size")),
                              "volume_type": disk.get(f"{{{OVF}}}volume-type")}
    drives = [item for item in system.iterfind("ovf:VirtualHardwareSection/ovf:Item", NS)
              if item.findtext("rasd:ResourceType", namespaces=NS) == "17"]
    for drive in drives:  # readDiskImageItem: the HostResource's id is a disk's description
        resource = drive.findtext("rasd:HostResource", namespaces=NS)
        assert resource.rsplit("/", 1)[-1] in disks, resource
    os_section = system.find("ovf:OperatingSystemSection", NS)
    assert os_section is not None and os_section.get(f"{{{OVIRT}}}id", "").isdigit()
    return {"name": system.findtext("ovf:Name", namespaces=NS), "disks": disks}


def export_vm(admin: sdk.Connection, clients: Clients, disk: types.Disk) -> tuple[str, Path]:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("exported"), template=types.Template(name="Blank"),
                          cluster=types.Cluster(name="Default"), memory=64 * MiB))
    service = vms.vm_service(vm.id)
    service.disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO, bootable=True,
        active=True))
    host = admin.system_service().hosts_service().list()[0]
    directory = clients.work / unique("exports")
    directory.mkdir()
    service.export_to_path_on_host(host=types.Host(id=host.id), directory=str(directory),
                                   filename="vm.ova")
    ova = directory / "vm.ova"
    deadline = time.monotonic() + 120
    while not (ova.exists() and service.get().status == types.VmStatus.DOWN):
        assert time.monotonic() < deadline, "the export did not end"
        time.sleep(0.5)
    return vm.id, ova


def test_exported_ova_follows_ovirts_rules_and_the_sdk_examples_take_it(
        clients: Clients, admin: sdk.Connection) -> None:
    disk, checksum = upload(clients, admin, unique("ova-src"))
    vm_id, ova = export_vm(admin, clients, disk)

    with tarfile.open(ova) as tar:
        names = tar.getnames()
        member = tar.extractfile("vm.ovf")
        assert member is not None, names
        descriptor = member.read()
    assert names[0] == "vm.ovf"
    members = walk_like_extract_ova(ova)
    assert list(members) == names
    seen = read_like_ovirt(descriptor)
    assert set(seen["disks"]) == {disk.id}
    described = seen["disks"][disk.id]
    offset, size = members[described["href"]]
    assert size % TAR_BLOCK == 0 and size == described["file_size"]
    assert described["size"] >= disk.provisioned_size
    image = {"driver": "qcow2", "file": {"driver": "raw", "offset": offset, "size": size,
                                         "file": {"driver": "file", "filename": str(ova)}}}
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json",
                                      "json:" + json.dumps(image)],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["virtual-size"] == disk.provisioned_size

    clients.example("upload_from_ova.py", "-c", "engine", "--sd-name", "ram",
                    "--ova-disk-name", described["href"], str(ova))
    copies = [d for d in admin.system_service().disks_service().list()
              if d.name == f"{described['href']}.qcow2"]
    assert len(copies) == 1 and disk_checksum(clients, admin, copies[0].id) == checksum

    # The SDK's VM upload makes the disks under the OVF's ids: the original goes first.
    admin.system_service().vms_service().vm_service(vm_id).remove()
    clients.example("upload_ova_as_vm_or_template.py", "-c", "engine", "--sd-name", "ram",
                    "--cluster-name", "Default", str(ova))
    made = admin.system_service().vms_service().list(search=f"name={seen['name']}")
    assert len(made) == 1
    attached = admin.system_service().vms_service().vm_service(made[0].id) \
        .disk_attachments_service().list()
    assert [a.disk.id for a in attached] == [disk.id] and attached[0].bootable
    assert disk_checksum(clients, admin, disk.id) == checksum


@pytest.fixture(scope="module")
def demo_disk() -> Path:
    from appliance.demoguest import build

    return build(Path(__file__).resolve().parents[2] / ".cache" / "demoguest").disk


def ovirt_descriptor(*, vm_id: str, name: str, disk_id: str, volume_id: str, capacity: int,
                     file_size: int) -> bytes:
    """An OVF as OvfOvaWriter writes one (its element and attribute spellings)."""
    gib = -(-capacity // (1 << 30))
    return f"""<?xml version='1.0' encoding='UTF-8'?>
<ovf:Envelope xmlns:ovf="{OVF}" xmlns:rasd="{RASD}" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="{OVF}" xmlns:ovirt="{OVIRT}" ovf:version="4.4.0.0">
<References><File ovf:href="{volume_id}" ovf:id="{volume_id}" ovf:size="{file_size}"></File></References>
<NetworkSection><Info>List of networks</Info><Network ovf:name="ovirtmgmt"></Network></NetworkSection>
<DiskSection><Info>List of Virtual Disks</Info><Disk ovf:diskId="{disk_id}" ovf:capacity="{gib}" ovf:capacityAllocationUnits="byte * 2^30" ovf:populatedSize="{file_size}" ovf:parentRef="" ovf:fileRef="{volume_id}" ovf:format="http://www.gnome.org/~markmc/qcow-image-format.html" ovf:volume-format="COW" ovf:volume-type="Sparse" ovf:disk-interface="VirtIO" ovf:boot="true" ovf:pass-discard="false" ovf:disk-alias="{name}_Disk1" ovf:disk-description="" ovf:wipe-after-delete="false" ovf:description="{disk_id}" ovf:disk_storage_type="IMAGE" ovf:cinder_volume_type="" ovf:incremental-backup="false"></Disk></DiskSection>
<VirtualSystem ovf:id="{vm_id}"><Name>{name}</Name><Description></Description><Comment></Comment><CreationDate>2024/01/02 03:04:05</CreationDate><ExportDate>2024/01/02 03:05:00</ExportDate><DeleteProtected>false</DeleteProtected><MinAllocatedMem>128</MinAllocatedMem><IsStateless>false</IsStateless><TemplateId>00000000-0000-0000-0000-000000000000</TemplateId><Origin>0</Origin><DefaultDisplayType>2</DefaultDisplayType><BiosType>0</BiosType>
<OperatingSystemSection ovf:id="36" ovirt:id="5" ovf:required="false"><Info>Guest Operating System</Info><Description>Linux</Description></OperatingSystemSection>
<VirtualHardwareSection><Info>1 CPU, 128 Memory</Info><System><vssd:VirtualSystemType>ENGINE 4.4.0.0</vssd:VirtualSystemType></System>
<Item><rasd:Caption>1 virtual cpu</rasd:Caption><rasd:Description>Number of virtual CPU</rasd:Description><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:num_of_sockets>1</rasd:num_of_sockets><rasd:cpu_per_socket>1</rasd:cpu_per_socket><rasd:threads_per_cpu>1</rasd:threads_per_cpu><rasd:max_num_of_vcpus>16</rasd:max_num_of_vcpus><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
<Item><rasd:Caption>128 MB of memory</rasd:Caption><rasd:Description>Memory Size</rasd:Description><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits><rasd:VirtualQuantity>128</rasd:VirtualQuantity></Item>
<Item><rasd:Caption>{name}_Disk1</rasd:Caption><rasd:InstanceID>{volume_id}</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>ovf:/disk/{disk_id}</rasd:HostResource><rasd:Parent>00000000-0000-0000-0000-000000000000</rasd:Parent><rasd:Template>00000000-0000-0000-0000-000000000000</rasd:Template><rasd:ApplicationList></rasd:ApplicationList><Type>disk</Type><Device>disk</Device><BootOrder>1</BootOrder><IsPlugged>true</IsPlugged><IsReadOnly>false</IsReadOnly><Alias>ua-{disk_id}</Alias></Item>
<Item><rasd:Caption>Ethernet adapter on ovirtmgmt</rasd:Caption><rasd:InstanceID>{uuid.uuid4()}</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType><rasd:OtherResourceType>ovirtmgmt</rasd:OtherResourceType><rasd:ResourceSubType>3</rasd:ResourceSubType><rasd:Connection>ovirtmgmt</rasd:Connection><rasd:Linked>true</rasd:Linked><rasd:Name>nic1</rasd:Name><rasd:ElementName>nic1</rasd:ElementName><rasd:MACAddress>56:6f:12:34:56:78</rasd:MACAddress><rasd:speed>1000</rasd:speed></Item>
<Item><rasd:Caption>USB Controller</rasd:Caption><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>23</rasd:ResourceType><rasd:UsbPolicy>DISABLED</rasd:UsbPolicy></Item>
</VirtualHardwareSection></VirtualSystem></ovf:Envelope>""".encode()  # noqa: E501


def pack_like_ovirt(target: Path, descriptor: bytes, disk_name: str, image: Path) -> None:
    """The archive as pack_ova.py writes it: GNU headers, the OVF padded to a block, the
    disk member of the (padded) image's size, two NUL blocks."""
    data = image.read_bytes()
    data += b"\0" * (-len(data) % TAR_BLOCK)
    with target.open("wb") as out:
        for name, payload in (("vm.ovf", descriptor), (disk_name, data)):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            info.mtime = int(time.time())
            out.write(info.tobuf(format=tarfile.GNU_FORMAT))
            out.write(payload + b"\0" * (-len(payload) % TAR_BLOCK))
        out.write(b"\0" * 2 * TAR_BLOCK)


def test_ova_in_ovirts_layout_imports_and_boots(clients: Clients, admin: sdk.Connection,
                                               demo_disk: Path) -> None:
    image = clients.work / "demo-export.qcow2"
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", str(demo_disk), str(image)],
                   check=True)
    capacity = json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(image)],
                                         capture_output=True, text=True,
                                         check=True).stdout)["virtual-size"]
    name = unique("fromovirt")
    disk_id, volume_id = str(uuid.uuid4()), str(uuid.uuid4())
    padded = image.stat().st_size + (-image.stat().st_size % TAR_BLOCK)
    descriptor = ovirt_descriptor(vm_id=str(uuid.uuid4()), name=name, disk_id=disk_id,
                                  volume_id=volume_id, capacity=capacity, file_size=padded)
    read_like_ovirt(descriptor)  # the test's own OVF passes oVirt's rules
    ova = clients.work / f"{name}.ova"
    pack_like_ovirt(ova, descriptor, volume_id, image)
    ova.chmod(0o644)
    imported = admin.system_service().external_vm_imports_service().add(
        types.ExternalVmImport(name=name, url=f"ova://{ova}", sparse=True,
                               provider=types.ExternalVmProviderType.KVM,
                               cluster=types.Cluster(name="Default"),
                               storage_domain=types.StorageDomain(name="ram")))
    vms = admin.system_service().vms_service()
    assert imported.vm is not None
    service = vms.vm_service(imported.vm.id)
    deadline = time.monotonic() + 180
    while service.get().status != types.VmStatus.DOWN:
        assert time.monotonic() < deadline
        time.sleep(0.5)
    vm = service.get()
    assert vm.memory == 128 * MiB and vm.name == name
    attachments = service.disk_attachments_service().list()
    assert len(attachments) == 1 and attachments[0].bootable
    service.start()
    log = clients.appliance.state_dir / "consoles" / f"{vm.id}.log"
    deadline = time.monotonic() + 180
    while not (log.exists() and READY in log.read_text(errors="replace")):
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:] \
            if log.exists() else "no console log"
        time.sleep(0.5)
    service.stop()
