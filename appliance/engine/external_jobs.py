"""External jobs: work done outside the engine that a client reports through it (oVirt's
``POST /jobs`` with ``<external>true``, as ``ovirt.ovirt.ovirt_job`` sends), with the steps
the client adds and ends. Only external jobs and steps may be ended or cleared by a client;
the engine's own jobs end with their work."""

from __future__ import annotations

import builtins
import time
from dataclasses import dataclass, replace

from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import JobStatus, StepType
from appliance.engine.ids import new_id
from appliance.engine.model import Job
from appliance.engine.store.tables import Table
from appliance.errors import InvalidInput, InvalidState, NotFound

MAX_DESCRIPTION = 1000


@dataclass(frozen=True)
class Step:
    id: str
    job_id: str
    description: str
    type: StepType = StepType.UNKNOWN
    status: JobStatus = JobStatus.STARTED
    number: int = 0
    start_time: float = 0.0
    end_time: float = 0.0
    external: bool = True
    parent_id: str | None = None
    progress: int = 0


class ExternalJobs:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.steps: Table[Step] = Table(ctx.store.db, name="job_steps", cls=Step, noun="step",
                                        columns=("job_id",))

    # Jobs

    @audited(AuditAction.EXTERNAL_JOB_ADD)
    def add(self, description: str, *, actor: Actor, auto_cleared: bool = True) -> Job:
        """A started external job, owned by the actor."""
        require_superuser(actor, "add external jobs")
        job = self.ctx.jobs.begin_external(_description(description), owner=actor.name,
                                           auto_cleared=auto_cleared)
        return job

    @audited(AuditAction.EXTERNAL_JOB_END)
    def end(self, job_id: str, *, actor: Actor, succeeded: bool = True,
            force: bool = False) -> Job:
        """Finished (or failed) now; ``force`` also aborts the steps still open."""
        require_superuser(actor, "end external jobs")
        job = self._external(job_id, actor, "ended")
        status = JobStatus.FINISHED if succeeded else JobStatus.FAILED
        now = time.time()
        for step in self.steps.where(job_id=job.id):
            if not step.status.ended:
                ended = JobStatus.ABORTED if force else status
                self.steps.update(replace(step, end_time=now, status=ended, progress=(
                    100 if ended is JobStatus.FINISHED else step.progress)))
        return self.ctx.store.jobs.update(replace(
            job, status=status, end_time=now, progress=100 if succeeded else job.progress,
            auto_cleared=True if force else job.auto_cleared))

    @audited(AuditAction.EXTERNAL_JOB_CLEAR)
    def clear(self, job_id: str, *, actor: Actor) -> None:
        """Gone from the job list, with its steps."""
        require_superuser(actor, "clear external jobs")
        job = self._external(job_id, actor, "cleared")
        with self.ctx.store.db.transaction():
            for step in self.steps.where(job_id=job.id):
                self.steps.delete(step.id)
            self.ctx.store.jobs.delete(job.id)

    # Steps

    @audited_read(AuditAction.EXTERNAL_JOB_LIST_STEPS)
    def list_steps(self, job_id: str, *, actor: Actor) -> builtins.list[Step]:
        job = self.ctx.jobs.get(job_id, actor=actor)
        return self.steps.where(job_id=job.id)

    @audited_read(AuditAction.EXTERNAL_JOB_GET_STEP)
    def get_step(self, job_id: str, step_id: str, *, actor: Actor) -> Step:
        for step in self.list_steps(job_id, actor=actor):
            if step.id == step_id:
                return step
        raise NotFound(f"Job {job_id[:60]} has no step with id '{step_id[:60]}'.")

    @audited(AuditAction.EXTERNAL_JOB_ADD_STEP)
    def add_step(self, job_id: str, description: str, *, actor: Actor,
                 type: StepType = StepType.UNKNOWN, parent_id: str | None = None) -> Step:
        """A started step of an external job (``parent_id``: a step of the same job)."""
        require_superuser(actor, "add steps to external jobs")
        job = self._external(job_id, actor, "given steps")
        if job.status.ended:
            raise InvalidState(f"Cannot add a step to job '{job.description[:80]}': it has "
                               "already ended.")
        steps = self.steps.where(job_id=job.id)
        if parent_id and parent_id not in {s.id for s in steps}:
            raise NotFound(f"Job '{job.description[:80]}' has no step with id "
                           f"'{parent_id[:60]}'.")
        step = Step(id=new_id(), job_id=job.id, description=_description(description),
                    type=type, number=len(steps), start_time=time.time(),
                    parent_id=parent_id or None)
        return self.steps.insert(step)

    @audited(AuditAction.EXTERNAL_JOB_END_STEP)
    def end_step(self, job_id: str, step_id: str, *, actor: Actor,
                 succeeded: bool = True) -> Step:
        require_superuser(actor, "end steps of external jobs")
        step = self.get_step(job_id, step_id, actor=actor)
        if not step.external:
            raise InvalidInput(f"Step '{step.description[:80]}' is the engine's own: only "
                               "external steps can be ended.")
        return self.steps.update(replace(
            step, end_time=time.time(), progress=100 if succeeded else step.progress,
            status=JobStatus.FINISHED if succeeded else JobStatus.FAILED))

    def _external(self, job_id: str, actor: Actor, verb: str) -> Job:
        job = self.ctx.jobs.get(job_id, actor=actor)
        if not job.external:  # oVirt answers 400 (ACTION_TYPE_NOT_EXTERNAL)
            raise InvalidInput(f"Job '{job.description[:80]}' is the engine's own: only "
                               f"external jobs can be {verb}.")
        return job


def _description(text: str) -> str:
    text = text.strip()
    if not text:
        raise InvalidInput("An external job or step needs a <description>.")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(f"A description has at most {MAX_DESCRIPTION} characters.")
    return text
