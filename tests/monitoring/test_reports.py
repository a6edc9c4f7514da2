"""Reports over a period from history (injected clock), their CSV/JSON export, and the SVG
charts the portals draw from history."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from lxml import etree

from appliance.engine.model import StorageDomain, Vm
from appliance.engine.monitoring import History, ManualClock, Measurement, ObjectKind
from appliance.engine.monitoring.history import HOUR
from appliance.engine.monitoring.reports import (
    ExportFormat,
    ReportKind,
    StorageGrowth,
    VmUsage,
    storage_growth,
    vm_usage,
)
from appliance.engine.store import Database
from webui.charts import Line, line_chart

START = 1_700_000_400.0


def _history(tmp_path: Path) -> History:
    clock = ManualClock(START)
    history = History(Database(tmp_path / "engine.db"), clock)
    for n in range(360):  # an hour at 10 s; the VM runs the second half only
        batch = [Measurement(ObjectKind.STORAGE_DOMAIN, "sd", "ram", clock.now(),
                             {"used": 1000 + 10 * n, "capacity": 10**6, "committed": 5000,
                              "overcommit": 0.5})]
        if n >= 180:
            batch.append(Measurement(ObjectKind.VM, "vm1", "=cmd()", clock.now(),
                                     {"cpu": 20.0 if n % 2 else 40.0, "mem_used": 100,
                                      "disk_read": 1000.0, "net_tx": 10.0}))
        history.record(batch)
        clock.advance(10)
    return history


def test_vm_usage_counts_uptime_and_bytes_moved(tmp_path: Path) -> None:
    history = _history(tmp_path)
    vms = [Vm(id="vm1", name="=cmd()", cluster_id="c", memory=1 << 30),
           Vm(id="vm2", name="never-ran", cluster_id="c", memory=1 << 30)]
    report = vm_usage(history, vms, since=START, until=START + HOUR, interval=10)
    ran, idle = report.rows
    assert isinstance(ran, VmUsage) and isinstance(idle, VmUsage)
    assert ran.uptime_seconds == 1800 and idle.uptime_seconds == 0
    assert ran.cpu_average_percent == 30 and ran.cpu_peak_percent == 40
    assert ran.disk_read_bytes == 1000 * 1800 and ran.network_sent_bytes == 10 * 1800
    rows = list(csv.DictReader(io.StringIO(report.export(ExportFormat.CSV))))
    assert rows[0]["name"] == "'=cmd()"  # never a formula in a spreadsheet
    assert rows[0]["uptime_seconds"] == "1800"
    exported = json.loads(report.export(ExportFormat.JSON))
    assert exported["report"] == ReportKind.VM_USAGE and exported["rows"][1]["name"] == \
        "never-ran"


def test_storage_growth_over_a_period(tmp_path: Path) -> None:
    history = _history(tmp_path)
    domain = StorageDomain(id="sd", name="ram", path="/x", data_center_id=None)
    [row] = storage_growth(history, [domain], since=START, until=START + HOUR).rows
    assert isinstance(row, StorageGrowth)
    assert (row.used_first_bytes, row.used_last_bytes) == (1000, 1000 + 10 * 359)
    assert row.growth_bytes == 3590 and row.capacity_bytes == 10**6


def test_a_chart_is_valid_svg_with_a_line_per_series() -> None:
    svg = line_chart("CPU <script>", [Line("cpu", [(START, 10.0), (START + 10, 90.0)]),
                                      Line("guest", [(START, 5.0), (START + 10, 50.0)])],
                     unit="%", maximum=100)
    root = etree.fromstring(svg.encode())
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert len(root.findall("s:polyline", ns)) == 2
    assert root.find("s:title", ns).text == "CPU <script>"  # escaped in the markup
    assert "<script>" not in svg
    empty = etree.fromstring(line_chart("Memory", [Line("used", [])]).encode())
    assert "no samples yet" in etree.tostring(empty).decode()
