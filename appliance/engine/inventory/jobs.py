"""Read model of the jobs a user sees: running ones first, then the latest finished."""

from __future__ import annotations

from appliance.engine.enums import JobStatus
from appliance.engine.model import Job
from appliance.engine.store.schema import Store


def recent_jobs(store: Store, *, limit: int, owner: str | None = None) -> list[Job]:
    """``owner``: only that user's jobs (None: everyone's)."""
    jobs = store.jobs.all()
    if owner is not None:
        jobs = [j for j in jobs if j.owner == owner]
    jobs.sort(key=lambda j: (j.status is not JobStatus.STARTED, -j.start_time))
    return jobs[:limit]
