"""Reports over a period, from history: uptime and resource use per VM, storage growth per
domain; exported as CSV or JSON.

Each history bucket says how many samples it averages, and every sample stands for one
sampling interval, so uptime is samples x interval and bytes moved are rate x samples x
interval, whatever tier the period is read from.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.engine.model import StorageDomain, Vm
from appliance.engine.monitoring.history import History, Point
from appliance.errors import InvalidInput


class ReportKind(StrEnum):
    VM_USAGE = "vm_usage"
    STORAGE_GROWTH = "storage_growth"


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"

    @property
    def content_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/json"


@dataclass(frozen=True)
class VmUsage:
    vm_id: str
    name: str
    uptime_seconds: int
    cpu_average_percent: float
    cpu_peak_percent: float
    memory_average_bytes: int
    disk_read_bytes: int
    disk_written_bytes: int
    network_received_bytes: int
    network_sent_bytes: int


@dataclass(frozen=True)
class StorageGrowth:
    storage_domain_id: str
    name: str
    capacity_bytes: int
    used_first_bytes: int
    used_last_bytes: int
    growth_bytes: int
    committed_last_bytes: int
    overcommit_last_percent: float


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    since: float
    until: float
    rows: Sequence[VmUsage] | Sequence[StorageGrowth]

    def export(self, fmt: ExportFormat) -> str:
        return to_csv(self) if fmt is ExportFormat.CSV else to_json(self)


def vm_usage(history: History, vms: Sequence[Vm], *, since: float, until: float,
             interval: float) -> Report:
    _check_period(since, until)
    rows = []
    for vm in vms:
        points = history.series(vm.id, since=since, until=until)
        samples = sum(p.count for p in points)
        cpu = [p.values["cpu"] for p in points if "cpu" in p.values]
        rows.append(VmUsage(
            vm_id=vm.id, name=vm.name,
            uptime_seconds=int(min(samples * interval, until - since)),
            cpu_average_percent=round(_weighted(points, "cpu"), 2),
            cpu_peak_percent=round(max(cpu, default=0.0), 2),
            memory_average_bytes=int(_weighted(points, "mem_used")),
            disk_read_bytes=int(_moved(points, "disk_read", interval)),
            disk_written_bytes=int(_moved(points, "disk_write", interval)),
            network_received_bytes=int(_moved(points, "net_rx", interval)),
            network_sent_bytes=int(_moved(points, "net_tx", interval))))
    return Report(ReportKind.VM_USAGE, since, until, rows)


def storage_growth(history: History, domains: Sequence[StorageDomain], *, since: float,
                   until: float) -> Report:
    _check_period(since, until)
    rows = []
    for domain in domains:
        points = [p for p in history.series(domain.id, since=since, until=until)
                  if "used" in p.values]
        if not points:
            continue
        first, last = points[0].values, points[-1].values
        rows.append(StorageGrowth(
            storage_domain_id=domain.id, name=domain.name,
            capacity_bytes=int(last.get("capacity", 0)), used_first_bytes=int(first["used"]),
            used_last_bytes=int(last["used"]), growth_bytes=int(last["used"] - first["used"]),
            committed_last_bytes=int(last.get("committed", 0)),
            overcommit_last_percent=round(last.get("overcommit", 0.0), 1)))
    return Report(ReportKind.STORAGE_GROWTH, since, until, rows)


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    columns = _columns(report)
    writer.writerow(columns)
    for row in report.rows:
        values = dataclasses.asdict(row)
        writer.writerow([_cell(values[c]) for c in columns])
    return out.getvalue()


def to_json(report: Report) -> str:
    return json.dumps({"report": report.kind.value, "since": report.since,
                       "until": report.until,
                       "rows": [dataclasses.asdict(r) for r in report.rows]}, indent=1)


def _columns(report: Report) -> list[str]:
    row_type = VmUsage if report.kind is ReportKind.VM_USAGE else StorageGrowth
    return [f.name for f in dataclasses.fields(row_type)]


def _cell(value: Any) -> str:
    text = str(value)
    # A spreadsheet runs cells that start like a formula: VM names are user input.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _numeric(text) else text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_period(since: float, until: float) -> None:
    if until <= since:
        raise InvalidInput("A report's period must end after it starts.")


def _weighted(points: list[Point], key: str) -> float:
    weights = [(p.values[key], p.count) for p in points if key in p.values]
    total = sum(n for _, n in weights)
    return sum(v * n for v, n in weights) / total if total else 0.0


def _moved(points: list[Point], key: str, interval: float) -> float:
    return sum(p.values[key] * p.count * interval for p in points if key in p.values)
