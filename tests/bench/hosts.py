"""Many hosts: live migration of a 256 MiB demo guest between two lab hosts (total time,
libvirt's downtime, and the longest pause of the guest's console counter) and the time a
highly available VM takes to come back after its host fails.

Baseline: starting the same guest from scratch until it reports ready, measured in the same
run: what a restart would cost instead of a migration, and what an HA restart cannot beat.
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from pathlib import Path

from appliance.demoguest import build
from appliance.engine.authz import SYSTEM
from appliance.engine.enums import VmStatus
from tests.bench import Figure
from tests.hosts.labenv import Lab, lab_engine, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 4


def run() -> list[Figure]:
    disk = build(REPO_ROOT / ".cache" / "demoguest").disk
    with lab_engine(disk) as lab:
        boot = _cold_start(lab)
        totals, downtimes, pauses = _migrations(lab)
        ha_up, ha_ready = _ha_restart(lab)
    median = statistics.median
    return [
        Figure("cold start to guest ready (baseline)", boot, "s"),
        Figure("migration total time, 256 MiB guest", median(totals), "s", baseline=boot),
        Figure("migration downtime (libvirt)", median(downtimes) / 1000, "s", baseline=boot),
        Figure("longest console counter pause during migration", median(pauses), "s",
               baseline=boot),
        Figure("HA restart after host failure: VM up elsewhere", ha_up, "s", baseline=boot),
        Figure("HA restart after host failure: guest ready", ha_ready, "s", baseline=boot),
    ]


def _cold_start(lab: Lab) -> float:
    started = time.monotonic()
    vm = lab.start_vm("bench-boot")
    lab.wait_ready(vm.id, 120).close()
    elapsed = time.monotonic() - started
    lab.engine.vms.stop(vm.id, actor=SYSTEM)
    return elapsed


def _migrations(lab: Lab) -> tuple[list[float], list[int], list[float]]:
    vm = lab.start_vm("bench-mig")
    console = lab.wait_ready(vm.id, 120)
    console.send("counter on")
    console.wait_for(r"VIRTSTICK-COUNTER=3\b", 30)
    console.close()
    totals: list[float] = []
    downtimes: list[int] = []
    pauses: list[float] = []
    for _ in range(ROUNDS):
        stop = threading.Event()
        seen: list[float] = []
        log_path = lab.console(vm.id).log_path
        watcher = threading.Thread(target=_watch, args=(log_path, stop, seen))
        watcher.start()
        time.sleep(1.5)
        job = lab.engine.migrations.migrate(vm.id, actor=SYSTEM)
        lab.engine.jobs.wait(job.id, 120)
        time.sleep(1.5)
        stop.set()
        watcher.join()
        result = lab.engine.migrations.results[vm.id]
        totals.append(result.seconds)
        downtimes.append(result.downtime_ms)
        pauses.append(max(b - a for a, b in zip(seen, seen[1:], strict=False)))
    lab.engine.vms.stop(vm.id, actor=SYSTEM)
    return totals, downtimes, pauses


def _watch(log_path: Path, stop: threading.Event, seen: list[float]) -> None:
    offset = len(log_path.read_bytes())
    while not stop.is_set():
        text = log_path.read_bytes().decode("latin-1")
        end = text.rfind("\n") + 1
        now = time.monotonic()
        seen.extend(now for _ in re.finditer(r"VIRTSTICK-COUNTER=", text[offset:end]))
        offset = max(offset, end)
        time.sleep(0.02)


def _ha_restart(lab: Lab) -> tuple[float, float]:
    vm = lab.start_vm("bench-ha", ha=True)
    lab.wait_ready(vm.id, 120).close()
    failed = lab.vm(vm.id).host_id or ""
    logged = len(lab.log_bytes(vm.id))
    started = time.monotonic()
    lab.engine.hosts.stop_lab_host(failed, actor=SYSTEM, crash=True)
    wait_until(lambda: lab.vm(vm.id).status is VmStatus.UP
               and lab.vm(vm.id).host_id not in (None, failed), 120, "the HA restart")
    up = time.monotonic() - started
    lab.wait_ready(vm.id, 120, after=logged).close()
    return up, time.monotonic() - started
