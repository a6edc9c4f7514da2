"""What a page's live stream says: the engine's changes as server-sent events, one JSON
object each, shaped for portal.js and live.js (sizes and words already in the portal's
terms, so the scripts only place them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.engine.enums import JobStatus, VmStatus
from appliance.engine.inventory import Dashboard, VmState
from appliance.engine.live import EventNote
from appliance.engine.model import Job
from appliance.engine.monitoring.measurements import Measurement, ObjectKind
from appliance.engine.validation import human_size

RETRY_MS = 3000  # how soon a browser reconnects a stream that ended
# Statuses said the way oVirt's portals say them, where the plain word is not enough.
_STATUS_WORDS = {
    VmStatus.WAIT_FOR_LAUNCH: "Powering up",
    VmStatus.REBOOT_IN_PROGRESS: "Rebooting",
    VmStatus.IMAGE_LOCKED: "Image locked",
    VmStatus.NOT_RESPONDING: "Not responding",
}


def status_label(status: VmStatus) -> str:
    return _STATUS_WORDS.get(status) or status.value.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Message:
    event: str
    data: Mapping[str, Any]

    def encode(self) -> bytes:
        payload = json.dumps(self.data, separators=(",", ":"))
        return f"event: {self.event}\ndata: {payload}\n\n".encode()


def opening(stream_id: str) -> bytes:
    """The first bytes of a stream: how soon to reconnect, and that it is open."""
    return f"retry: {RETRY_MS}\n\n".encode() + Message("open", {"stream": stream_id}).encode()


HEARTBEAT = b": ping\n\n"  # a comment: keeps proxies and the idle timeout from closing it


def ended(reason: str, *, final: bool) -> bytes:
    """``final``: the page must not reconnect (the session ended); else it may at once."""
    return Message("end", {"reason": reason, "final": final}).encode()


def vm(state: VmState) -> Message:
    return Message("vm", {"id": state.id, "name": state.name, "status": state.status.value,
                          "label": status_label(state.status),
                          "running": state.status.is_running, "host": state.host_name})


def vm_removed(vm_id: str) -> Message:
    return Message("vm-removed", {"id": vm_id})


def job(found: Job) -> Message:
    return Message("job", {
        "id": found.id, "description": found.description, "status": found.status.value,
        "label": found.status.value.replace("_", " ").capitalize(),
        "running": found.status is JobStatus.STARTED, "progress": found.progress,
        "error": found.error, "start_time": found.start_time, "end_time": found.end_time,
        "owner": found.owner})


def event(note: EventNote) -> Message:
    e = note.event
    return Message("event", {"id": e.id, "time": e.time, "severity": e.severity.value,
                             "description": e.description, "vm_id": e.vm_id or "",
                             "vm_name": note.vm_name, "host_id": e.host_id or "",
                             "host_name": note.host_name, "user": e.user})


def dashboard(board: Dashboard) -> Message:
    """The dashboard's counts (its storage comes with the statistics: ``storage``)."""
    return Message("dashboard", {
        "hosts_up": board.hosts_up, "hosts_total": board.hosts_total,
        "vms_up": board.vms_up, "vms_down": board.vms_down, "vms_total": board.vms_total,
        "memory_used": human_size(board.memory_used),
        "memory_total": human_size(board.memory_total),
        "memory_pct": _percent(board.memory_used, board.memory_total),
        "vcpus_used": board.vcpus_used, "cpus_total": board.cpus_total,
        "vcpus_pct": _percent(board.vcpus_used, board.cpus_total)})


def storage(measurements: Iterable[Measurement]) -> Message | None:
    """Totals over the storage domains measured in a round; None if none was."""
    domains = [m.values for m in measurements if m.kind is ObjectKind.STORAGE_DOMAIN]
    if not domains:
        return None
    capacity, used, free, committed = (int(sum(d.get(k, 0.0) for d in domains))
                                       for k in ("capacity", "used", "free", "committed"))
    return Message("storage", {
        "used": human_size(used), "free": human_size(free), "capacity": human_size(capacity),
        "overcommit": f"{committed / capacity if capacity else 0.0:.2f}×",
        "used_pct": _percent(used, capacity)})


def samples(measurements: Iterable[Measurement], watched: frozenset[str]) -> Message | None:
    """The values of the watched objects (VMs, hosts, storage domains) in a round."""
    found = {m.object_id: {"time": m.time, "values": dict(m.values)}
             for m in measurements if m.object_id in watched}
    return Message("samples", {"objects": found}) if found else None


def _percent(used: float, total: float) -> float:
    return round(min(100.0, 100.0 * used / total), 1) if total else 0.0
