"""Jobs: long operations run in the background with progress; the caller gets the job at once.

Short operations are recorded as jobs too (finished on return), so clients that look jobs up
by correlation id find every action.
"""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace

from appliance.engine.audit import filtered_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.enums import EventSeverity, JobStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.events import EventLog
from appliance.engine.ids import new_id
from appliance.engine.model import Job
from appliance.engine.store.tables import Table
from appliance.errors import NotFound, VirtStickError

log = logging.getLogger(__name__)


class JobContext:
    def __init__(self, jobs: Jobs, job_id: str) -> None:
        self._jobs = jobs
        self.job_id = job_id

    def progress(self, percent: int) -> None:
        self._jobs.set_progress(self.job_id, percent)


class _Started(threading.local):
    job_ids: list[str] | None = None  # jobs run by this thread while someone watches


class Jobs:
    def __init__(self, table: Table[Job], events: EventLog, *, workers: int = 4) -> None:
        self.table = table
        self.events = events
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._started = _Started()
        self._watchers: dict[str, list[Callable[[], None]]] = {}  # of the running jobs

    def run(self, description: str, work: Callable[[JobContext], None], *,
            owner: str = "", correlation_id: str = "", vm_id: str | None = None,
            on_failure: Callable[[], None] | None = None) -> Job:
        """Start ``work`` in the background and return its job (status started)."""
        job = self._begin(description, owner, correlation_id, vm_id)

        def body() -> None:
            try:
                work(JobContext(self, job.id))
            except Exception as exc:
                self._fail(job, exc)
                if on_failure is not None:
                    on_failure()
            else:
                self._finish(job)
            finally:
                self._ended(job.id)

        with self._lock:
            self._watchers[job.id] = []
            self._futures[job.id] = self._pool.submit(body)
        if self._started.job_ids is not None:
            self._started.job_ids.append(job.id)
        return job

    @contextmanager
    def started_here(self) -> Iterator[list[str]]:
        """The ids of the background jobs this thread starts within the block (nested
        blocks share the outer one's list)."""
        outer = self._started.job_ids
        if outer is not None:
            yield outer
            return
        self._started.job_ids = []
        try:
            yield self._started.job_ids
        finally:
            self._started.job_ids = None

    def when_done(self, job_ids: list[str], callback: Callable[[list[Job]], None]) -> None:
        """Call ``callback`` with the jobs as they ended, once all of them have (at once
        if they already have); before ``wait`` returns for the last of them."""
        remaining = [len(job_ids)]
        guard = threading.Lock()

        def one_done() -> None:
            with guard:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                callback([self.table.get(job_id) for job_id in job_ids])

        if not job_ids:
            callback([])
        for job_id in job_ids:
            with self._lock:
                watchers = self._watchers.get(job_id)
                if watchers is not None:
                    watchers.append(one_done)
            if watchers is None:
                one_done()

    def record(self, description: str, *, owner: str = "", correlation_id: str = "",
               vm_id: str | None = None) -> Job:
        """A finished job for an action that completed during the request."""
        job = self._begin(description, owner, correlation_id, vm_id)
        return self._finish(job)

    @filtered_read(AuditAction.JOB_LIST)
    def list(self, *, actor: Actor, correlation_id: str = "") -> builtins.list[Job]:
        """The jobs this actor may see (a SuperUser all, others their own), optionally of
        one correlation id."""
        jobs = (self.table.where(correlation_id=correlation_id) if correlation_id
                else self.table.all())
        return [j for j in jobs if actor.superuser or j.owner == actor.name]

    @filtered_read(AuditAction.JOB_GET)
    def get(self, job_id: str, *, actor: Actor) -> Job:
        job = self.table.find(job_id)
        if job is None or not (actor.superuser or job.owner == actor.name):
            raise NotFound(f"There is no job with id '{job_id[:60]}'.")
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.result(timeout)
        return self.table.get(job_id)

    def set_progress(self, job_id: str, percent: int) -> None:
        job = self.table.find(job_id)
        if job is not None and job.progress != percent:
            self.table.update(replace(job, progress=max(0, min(100, percent))))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def abort_unfinished(self) -> None:
        """Jobs left running by a previous process can never finish: mark them aborted."""
        for job in self.table.where(status=JobStatus.STARTED):
            self.table.update(replace(job, status=JobStatus.ABORTED, end_time=time.time(),
                                      error="the service restarted while it ran"))

    def _ended(self, job_id: str) -> None:
        with self._lock:
            watchers = self._watchers.pop(job_id, [])
        for watcher in watchers:
            try:
                watcher()
            except Exception:  # one watcher's failure must not hide the job's end from others
                log.exception("a watcher of job %s failed", job_id)

    def _begin(self, description: str, owner: str, correlation_id: str,
               vm_id: str | None) -> Job:
        job = Job(id=new_id(), description=description, status=JobStatus.STARTED,
                  start_time=time.time(), owner=owner, correlation_id=correlation_id,
                  vm_id=vm_id)
        return self.table.insert(job)

    def _finish(self, job: Job) -> Job:
        current = self.table.find(job.id) or job
        return self.table.update(replace(current, status=JobStatus.FINISHED, progress=100,
                                         end_time=time.time()))

    def _fail(self, job: Job, exc: Exception) -> None:
        message = exc.detail if isinstance(exc, VirtStickError) else str(exc)
        if not isinstance(exc, VirtStickError):
            log.exception("job %s failed", job.description)
        current = self.table.find(job.id) or job
        self.table.update(replace(current, status=JobStatus.FAILED, end_time=time.time(),
                                  error=message))
        self.events.record(EventCode.JOB_FAILED, f"{job.description} failed: {message}",
                           severity=EventSeverity.ERROR, vm_id=job.vm_id,
                           user=job.owner, correlation_id=job.correlation_id)
