"""Jobs through the SDK: external jobs a client adds, steps and ends (refused on the engine's
own jobs, as oVirt refuses), and the request's correlation id on the jobs of any action."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique

MiB = 1024 * 1024


def test_an_external_job_with_steps_ends_as_its_client_says(admin: sdk.Connection) -> None:
    jobs = admin.system_service().jobs_service()
    job = jobs.add(types.Job(description=unique("backup run"), external=True,
                             status=types.JobStatus.STARTED, auto_cleared=False))
    assert job.status == types.JobStatus.STARTED and job.external
    steps = jobs.job_service(job.id).steps_service()
    outer = steps.add(types.Step(description="copy", type=types.StepEnum.EXECUTING,
                                 job=types.Job(id=job.id)))
    inner = steps.add(types.Step(description="copy disk 1", type=types.StepEnum.UNKNOWN,
                                 parent_step=types.Step(id=outer.id)))
    assert [s.number for s in steps.list()] == [0, 1]
    assert steps.step_service(inner.id).get().parent_step.id == outer.id
    steps.step_service(inner.id).end(succeeded=False)
    assert steps.step_service(inner.id).get().status == types.StepStatus.FAILED
    jobs.job_service(job.id).end(succeeded=False)
    ended = jobs.job_service(job.id).get()
    assert ended.status == types.JobStatus.FAILED and ended.end_time is not None
    assert steps.step_service(outer.id).get().status == types.StepStatus.FAILED
    with pytest.raises(sdk.Error) as late:
        steps.add(types.Step(description="too late", type=types.StepEnum.UNKNOWN))
    assert late.value.code == 409
    jobs.job_service(job.id).clear()
    with pytest.raises(sdk.NotFoundError):
        jobs.job_service(job.id).get()


def test_the_engines_own_jobs_are_not_ended_by_clients(admin: sdk.Connection) -> None:
    correlation = str(uuid.uuid4())
    disks = admin.system_service().disks_service()
    disk = disks.add(types.Disk(name=unique("scratch"), provisioned_size=16 * MiB,
                                format=types.DiskFormat.COW,
                                storage_domains=[types.StorageDomain(name="ram")]))
    disks.disk_service(disk.id).remove(query={"correlation_id": correlation})
    jobs = admin.system_service().jobs_service()
    found = jobs.list(search=f"correlation_id={correlation}")
    assert [j.status for j in found] == [types.JobStatus.FINISHED]
    assert not found[0].external
    acts: tuple[Callable[[], object], ...] = (
        lambda: jobs.job_service(found[0].id).end(succeeded=True),
        lambda: jobs.job_service(found[0].id).clear(),
        lambda: jobs.job_service(found[0].id).steps_service().add(
            types.Step(description="mine", type=types.StepEnum.UNKNOWN)))
    for act in acts:
        with pytest.raises(sdk.Error) as refused:
            act()
        assert refused.value.code == 400  # as oVirt answers ACTION_TYPE_NOT_EXTERNAL
        assert "only external jobs" in str(refused.value)


def test_a_job_needs_a_description(admin: sdk.Connection) -> None:
    with pytest.raises(sdk.Error) as refused:
        admin.system_service().jobs_service().add(types.Job(description=" ", external=True))
    assert refused.value.code == 400


def test_every_correlated_action_has_its_jobs(admin: sdk.Connection) -> None:
    """A clone runs as a job, a VM update all at once: both are found by their id."""
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("corr"), template=types.Template(name="Blank"),
                          cluster=types.Cluster(name="Default"), memory=64 * MiB))
    jobs = admin.system_service().jobs_service()
    try:
        updated = str(uuid.uuid4())
        vms.vm_service(vm.id).update(types.Vm(description="changed"),
                                     query={"correlation_id": updated})
        assert len(jobs.list(search=f"correlation_id={updated}")) == 1
        cloned = str(uuid.uuid4())
        vms.vm_service(vm.id).clone(vm=types.Vm(name=f"{vm.name}-copy"),
                                    query={"correlation_id": cloned})
        found = jobs.list(search=f"correlation_id={cloned}")
        assert found and all("Cloning" in j.description for j in found)
        read = str(uuid.uuid4())
        vms.vm_service(vm.id).get(query={"correlation_id": read})
        assert jobs.list(search=f"correlation_id={read}") == []  # reads are no jobs
    finally:
        for name in (vm.name, f"{vm.name}-copy"):
            for found_vm in vms.list(search=f"name={name}"):
                _remove_when_down(vms.vm_service(found_vm.id))


def _remove_when_down(service: sdk.services.VmService) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            service.remove()
            return
        except sdk.Error as exc:
            if getattr(exc, "code", None) == 404:
                return
            time.sleep(1)
