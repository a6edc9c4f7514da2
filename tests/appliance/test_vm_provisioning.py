"""A new VM with its disk, NIC and ISO in one step: all of it is made, or nothing is left
behind (no VM, no disk, no image file) when any part is refused, even midway."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import BootDevice
from appliance.engine.model import GiB, MiB, StorageDomain
from appliance.engine.vm_provisioning import NewVm
from appliance.errors import InsufficientResources, InvalidInput, NotFound, VirtStickError

EiB = 1024**6  # more than any storage domain here may promise


def small_iso(tmp: Path) -> Path:
    root = tmp / "isoroot"
    root.mkdir()
    (root / "hello.txt").write_text("hello\n")
    iso = tmp / "small.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(root)],
                   check=True, capture_output=True)
    return iso


def ram_domain(engine: Engine) -> StorageDomain:
    return next(d for d in engine.inventory.list_storage_domains(actor=SYSTEM) if d.name == "ram")


def files_under(domain: StorageDomain) -> set[Path]:
    return set(Path(domain.path).rglob("*"))


def management_profile(engine: Engine) -> str:
    choices = engine.inventory.get_new_vm_choices(actor=SYSTEM)
    return next(p.id for p in choices.profiles if p.name == "ovirtmgmt")


def test_a_vm_with_disk_nic_and_iso(engine: Engine, tmp_path: Path) -> None:
    iso_file = small_iso(tmp_path)
    with iso_file.open("rb") as stream:
        iso = engine.isos.upload(stream, name="tools", storage_domain_id=ram_domain(engine).id,
                                 actor=SYSTEM)
    vm = engine.vm_provisioning.create(NewVm(
        name="complete", memory=64 * MiB, disk_size=GiB, vnic_profile_id=management_profile(engine),
        iso_id=iso.id, boot_from_cdrom=True), actor=SYSTEM)

    details = engine.inventory.get_vm_details(vm.id, actor=SYSTEM)
    assert details.vm.cluster_id == engine.clusters.default().id
    assert [(d.disk.name, d.disk.provisioned_size, d.attachment.bootable)
            for d in details.disks] == [("complete_disk1", GiB, True)]
    assert [(n.nic.name, n.profile_name) for n in details.nics] == [("nic1", "ovirtmgmt")]
    assert details.cdrom is not None and details.cdrom.name == "tools"
    assert details.vm.boot == (BootDevice.CDROM, BootDevice.HD)


@pytest.mark.parametrize(("refused", "error", "message"), [
    (NewVm(name="halfmade", disk_size=GiB, vnic_profile_id="no-such-profile"), NotFound,
     "no vNIC profile"),
    (NewVm(name="halfmade", disk_size=GiB, iso_id="no-such-iso"), NotFound, "no ISO image"),
    # Refused after the VM's row is written: the disk does not fit in the domain.
    (NewVm(name="halfmade", disk_size=EiB), InsufficientResources, "would promise"),
    # The New VM dialog's "-1 GiB": made a VM without the disk asked for.
    (NewVm(name="halfmade", disk_size=-GiB), InvalidInput, "disk size must be more than zero"),
], ids=["unknown-profile", "unknown-iso", "disk-too-large", "negative-disk"])
def test_a_refused_part_leaves_nothing(engine: Engine, refused: NewVm,
                                       error: type[VirtStickError], message: str) -> None:
    domain = ram_domain(engine)
    before = files_under(domain), engine.inventory.list_disk_rows(actor=SYSTEM)
    with pytest.raises(error, match=message):
        engine.vm_provisioning.create(refused, actor=SYSTEM)
    assert "halfmade" not in engine.inventory.list_vm_names(actor=SYSTEM).values()
    assert (files_under(domain), engine.inventory.list_disk_rows(actor=SYSTEM)) == before
    assert not [e for e in engine.events.recent() if "halfmade" in e.description]


def test_images_written_before_a_refusal_are_deleted(engine: Engine, tmp_path: Path) -> None:
    """A VM from a template gets a thin layer (an image file) first; when its extra disk is
    then refused, the layer goes too."""
    source = tmp_path / "base.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(source), "16M"], check=True)
    domain = ram_domain(engine)
    template = engine.templates.import_disk_image(source, name="layered", domain=domain,
                                                  actor=SYSTEM, memory=64 * MiB)
    before = files_under(domain), engine.inventory.list_disk_rows(actor=SYSTEM)
    with pytest.raises(InsufficientResources):
        engine.vm_provisioning.create(NewVm(name="halfmade", template_id=template.id,
                                            disk_size=EiB), actor=SYSTEM)
    assert "halfmade" not in engine.inventory.list_vm_names(actor=SYSTEM).values()
    assert (files_under(domain), engine.inventory.list_disk_rows(actor=SYSTEM)) == before
    # The same VM then makes it whole.
    vm = engine.vm_provisioning.create(NewVm(name="halfmade", template_id=template.id),
                                       actor=SYSTEM)
    assert len(engine.inventory.get_vm_details(vm.id, actor=SYSTEM).disks) == 1
