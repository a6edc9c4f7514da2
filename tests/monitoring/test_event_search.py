"""Events found by severity, object, words and period."""

from __future__ import annotations

from pathlib import Path

from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.events import EventLog
from appliance.engine.monitoring.event_search import EventFilter, search
from appliance.engine.store import Database


def test_filters_combine(tmp_path: Path) -> None:
    db = Database(tmp_path / "engine.db")
    log = EventLog(db)
    log.record(EventCode.VM_STARTED, "VM web1 was started.", vm_id="v1", host_id="h1")
    log.record(EventCode.VM_PAUSED_IO_ERROR, "VM web1 was paused: storage full 100%.",
               severity=EventSeverity.WARNING, vm_id="v1")
    log.record(EventCode.JOB_FAILED, "Importing db2 failed.", severity=EventSeverity.ERROR)
    log.record(EventCode.VM_STARTED, "VM db2 was started.", vm_id="v2", host_id="h1")

    def codes(**kwargs: object) -> list[str]:
        return [e.code for e in search(db, EventFilter(**kwargs))]  # type: ignore[arg-type]

    assert codes() == ["vm_started", "job_failed", "vm_paused_io_error", "vm_started"]
    assert codes(min_severity=EventSeverity.WARNING) == ["job_failed", "vm_paused_io_error"]
    assert codes(vm_id="v1") == ["vm_paused_io_error", "vm_started"]
    assert codes(host_id="h1", text="DB2") == ["vm_started"]
    assert codes(text="100%") == ["vm_paused_io_error"]  # no LIKE wildcards
    assert codes(text="paused full") == ["vm_paused_io_error"]
    assert codes(since=10**10) == []
    assert len(codes(limit=2)) == 2
