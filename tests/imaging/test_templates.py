"""Templates from VMs, thin and cloned VMs from them, versions, and refusals."""

from __future__ import annotations

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import DiskStatus, JobStatus, TemplateStatus, VmStatus
from appliance.engine.model import Template
from appliance.engine.template_builder import TemplateFromVm
from appliance.errors import InvalidState
from tests.imaging.conftest import Lab, pattern_at, qemu_io

OFFSET = 1024 * 1024


def _wait_vm_job(lab: Lab, vm_id: str) -> None:
    for job in lab.engine.ctx.store.jobs.all():
        if job.vm_id == vm_id:
            assert lab.engine.jobs.wait(job.id, 120).status is JobStatus.FINISHED, job


def test_template_from_vm_collapses_chain(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("src", data_template)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    lab.engine.snapshots.create(vm.id, description="s", actor=SYSTEM)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x33 {2 * OFFSET} 64k")

    started = lab.engine.template_builder.create_from_vm(
        TemplateFromVm(vm_id=vm.id, name=f"{lab.prefix}tpl"), actor=SYSTEM)
    assert started.template.status is TemplateStatus.LOCKED
    job = lab.engine.jobs.wait(started.job.id, 120)
    assert job.status is JobStatus.FINISHED, job.error
    template = lab.engine.ctx.store.templates.get(started.template.id)
    assert template.status is TemplateStatus.OK
    assert lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.DOWN

    base = lab.volume_path(template.id)
    info = lab.engine.ctx.store.volumes.where(disk_id=base.parent.name)
    assert len(info) == 1 and info[0].parent_id is None  # one independent volume
    for offset, byte in ((0, 0x11), (OFFSET, 0x22), (2 * OFFSET, 0x33)):
        assert pattern_at(base, offset, byte)

    thin = lab.vm("thin", template)
    assert pattern_at(lab.volume_path(thin.id), 2 * OFFSET, 0x33)
    clone = lab.vm("clone", template, clone=True)
    assert clone.status is VmStatus.IMAGE_LOCKED
    _wait_vm_job(lab, clone.id)
    assert lab.engine.ctx.store.vms.get(clone.id).status is VmStatus.DOWN
    cloned = lab.volume_path(clone.id)
    assert pattern_at(cloned, 2 * OFFSET, 0x33)
    disk = lab.engine.ctx.store.disks.get(cloned.parent.name)
    assert disk.status is DiskStatus.OK
    assert lab.engine.ctx.store.volumes.get(disk.volume_id).parent_id is None  # independent

    with pytest.raises(InvalidState, match="used by 2 VM"):
        lab.engine.templates.remove(template.id, actor=SYSTEM)


def test_template_versions(lab: Lab, data_template: Template) -> None:
    vm = lab.vm("v", data_template)
    first = lab.engine.template_builder.create_from_vm(
        TemplateFromVm(vm_id=vm.id, name=f"{lab.prefix}ver"), actor=SYSTEM)
    lab.engine.jobs.wait(first.job.id, 120)
    second = lab.engine.template_builder.create_from_vm(
        TemplateFromVm(vm_id=vm.id, base_template_id=first.template.id,
                       version_name="patched"), actor=SYSTEM)
    assert lab.engine.jobs.wait(second.job.id, 120).status is JobStatus.FINISHED
    versions = lab.engine.template_builder.versions(first.template.id)
    assert [(t.name, t.version_number) for t in versions] == [
        (f"{lab.prefix}ver", 1), (f"{lab.prefix}ver", 2)]
    with pytest.raises(InvalidState, match="newer"):
        lab.engine.templates.remove(first.template.id, actor=SYSTEM)
    lab.engine.templates.remove(second.template.id, actor=SYSTEM)
    lab.engine.templates.remove(first.template.id, actor=SYSTEM)


def test_failed_template_leaves_nothing(lab: Lab, data_template: Template) -> None:
    """The VM's volume is damaged (its header overwritten): the copy fails, the job says so, and no
    template, disk or file of it remains; the VM is unlocked."""
    vm = lab.vm("broken", data_template)
    qemu_io(lab.volume_path(vm.id), f"write -P 0x22 {OFFSET} 64k")
    disks_before = {d.id for d in lab.engine.ctx.store.disks.all()}
    templates_before = {t.id for t in lab.engine.ctx.store.templates.all()}
    images = lab.volume_path(vm.id).parent.parent
    dirs_before = set(images.iterdir())
    with lab.volume_path(vm.id).open("r+b") as volume:
        volume.write(b"garbage!" * 64)

    started = lab.engine.template_builder.create_from_vm(
        TemplateFromVm(vm_id=vm.id, name=f"{lab.prefix}bad"), actor=SYSTEM)
    job = lab.engine.jobs.wait(started.job.id, 120)

    assert job.status is JobStatus.FAILED and job.error
    assert {t.id for t in lab.engine.ctx.store.templates.all()} == templates_before
    assert {d.id for d in lab.engine.ctx.store.disks.all()} == disks_before
    assert set(images.iterdir()) == dirs_before
    assert lab.engine.ctx.store.vms.get(vm.id).status is VmStatus.DOWN
