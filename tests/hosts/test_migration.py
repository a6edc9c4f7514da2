"""Live migration between two lab hosts, watched through the guest's serial console."""

from __future__ import annotations

import re
import threading
import time

import pytest

from appliance.engine.authz import SYSTEM
from appliance.engine.enums import JobStatus, VmStatus
from appliance.errors import InsufficientResources, InvalidState
from tests.hosts.labenv import Lab, MiB, wait_until

pytestmark = pytest.mark.slow


def _counter_times(lab: Lab, vm_id: str, stop: threading.Event,
                   seen: list[tuple[float, int]]) -> None:
    """When each counter line appeared in the serial log (polled every 50 ms)."""
    log_path = lab.engine.ctx.hosts.agent(lab.vm(vm_id).host_id or "").console_paths(vm_id)[1]
    offset = len(log_path.read_bytes())
    while not stop.is_set():
        text = log_path.read_bytes().decode("latin-1")
        now = time.monotonic()
        end = text.rfind("\n") + 1
        for match in re.finditer(r"VIRTSTICK-COUNTER=(\d+)", text[offset:end]):
            seen.append((now, int(match.group(1))))
        offset = max(offset, end)
        time.sleep(0.05)


def test_live_migration_keeps_the_counter_going(lab: Lab) -> None:
    vm = lab.start_vm("mig1")
    console = lab.wait_ready(vm.id)
    console.send("counter on")
    console.wait_for(r"VIRTSTICK-COUNTER=3\b", 30)
    source = lab.vm(vm.id).host_id
    stop = threading.Event()
    seen: list[tuple[float, int]] = []
    watcher = threading.Thread(target=_counter_times, args=(lab, vm.id, stop, seen))
    watcher.start()
    time.sleep(2)
    job = lab.engine.migrations.migrate(vm.id, actor=SYSTEM)
    finished = lab.engine.jobs.wait(job.id, 120)
    time.sleep(3)
    stop.set()
    watcher.join()
    console.close()
    assert finished.status is JobStatus.FINISHED, finished.error
    moved = lab.vm(vm.id)
    assert moved.status is VmStatus.UP and moved.host_id not in (None, source)
    counts = [n for _, n in seen]
    assert counts == sorted(counts) and len(counts) > 8, counts
    gaps = [b[0] - a[0] for a, b in zip(seen, seen[1:], strict=False)]
    assert max(gaps) < 5, f"the counter stopped for {max(gaps):.1f} s"
    # The guest still runs on the target: its QEMU is there, and answers.
    domains = {d.uuid for d in lab.engine.ctx.hosts.agent(moved.host_id or "").domains()}
    assert vm.id in domains


def test_migration_to_a_host_without_memory_is_refused(lab: Lab) -> None:
    small = lab.start_vm("small", memory=256 * MiB)
    big = lab.start_vm("big", memory=900 * MiB)
    small_vm, big_vm = lab.vm(small.id), lab.vm(big.id)
    assert small_vm.host_id != big_vm.host_id  # 900 MiB fits only on the empty host
    with pytest.raises(InsufficientResources, match=r"needs 256.0 MiB") as refused:
        lab.engine.migrations.migrate(small.id, actor=SYSTEM, host_id=big_vm.host_id)
    assert "memory free" in refused.value.detail
    assert lab.vm(small.id).status is VmStatus.UP


def test_a_slow_migration_reports_progress_and_can_be_cancelled(lab: Lab) -> None:
    vm = lab.start_vm("slow1")
    lab.wait_ready(vm.id).close()
    source = lab.vm(vm.id).host_id
    job = lab.engine.migrations.migrate(vm.id, actor=SYSTEM, bandwidth_mib=4)
    assert lab.vm(vm.id).status is VmStatus.MIGRATING
    wait_until(lambda: lab.engine.ctx.store.jobs.get(job.id).progress > 0, 60, "some progress")
    lab.engine.migrations.cancel(vm.id, actor=SYSTEM)
    finished = lab.engine.jobs.wait(job.id, 60)
    assert finished.status is JobStatus.FAILED and "cancelled" in finished.error
    assert lab.vm(vm.id).status is VmStatus.UP and lab.vm(vm.id).host_id == source
    with pytest.raises(InvalidState, match="not migrating"):
        lab.engine.migrations.cancel(vm.id, actor=SYSTEM)
