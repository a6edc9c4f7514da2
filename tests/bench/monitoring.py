"""Monitoring benchmarks: what sampling costs per VM, and how big a month of history gets.

Sampling: 10 and then 100 tiny real domains (QEMU TCG, 16 MiB, no disk, started paused so
100 of them fit on a 2-core machine shared with others; libvirt still asks each QEMU for its
balloon, vCPU and block statistics). One round is what the sampler does per host: the bulk
``getAllDomainStats`` call with parsing, the measurements, and the history write. The figure
is CPU time of the sampling thread per VM; libvirtd's own CPU time is shown beside it (noisy:
the daemon is shared).

History: 50 VMs, a host and a storage domain through a month on an injected clock. Only
each tier's last span survives retention, so the month is fed at each tier's own step where
that tier decides what is kept (29 days at 10 min, 23 h at 1 min, the last hour at 10 s); the
baseline is one day fed entirely at 10 s.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import libvirt

from appliance.engine.monitoring import History, ManualClock, Measurement, ObjectKind
from appliance.engine.monitoring.history import DAY, HOUR, MINUTE
from appliance.engine.monitoring.measurements import storage_measurement, vm_measurement
from appliance.engine.store import Database
from appliance.vdsm.stats import BlockCounters, InterfaceCounters, VmSample, sample_domains
from tests import sandbox
from tests.bench import Figure

URI = sandbox.URI
ROUNDS = 20

DOMAIN_XML = """<domain type='qemu'>
  <name>{name}</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator>
    <memballoon model='virtio'/></devices>
</domain>"""


def run() -> list[Figure]:
    return [*_history_size(), *_sampling()]


# Sampling cost


def _sampling() -> list[Figure]:
    # libvirtd is shared, and other developers' tests restart it: retry on a lost connection.
    for attempt in range(3):
        try:
            small, large = _measure()
            break
        except libvirt.libvirtError:
            if attempt == 2:
                raise
            time.sleep(5)
    per_vm_small, per_vm_large = small[0] / 10 * 1e6, large[0] / 100 * 1e6
    return [
        Figure("sampling CPU per VM, 100 VMs", per_vm_large, "us", baseline=per_vm_small,
               target="baseline: the same with 10 VMs; ~1x means linear"),
        Figure("sampling CPU per round, 10 VMs", small[0] * 1e3, "ms"),
        Figure("sampling CPU per round, 100 VMs", large[0] * 1e3, "ms",
               baseline=small[0] * 1e3),
        Figure("sampling wall time per round, 100 VMs", large[1] * 1e3, "ms",
               baseline=small[1] * 1e3),
        Figure("libvirtd CPU per round, 100 VMs", large[2] * 1e3, "ms",
               baseline=small[2] * 1e3),
    ]


def _measure() -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    conn = libvirt.open(URI)
    prefix = f"bench-{secrets.token_hex(3)}-"
    try:
        with _domains(conn, prefix, 0, 10):
            small = _rounds(conn, prefix, 10)
            with _domains(conn, prefix, 10, 100):
                large = _rounds(conn, prefix, 100)
        return small, large
    finally:
        conn.close()


@contextlib.contextmanager
def _domains(conn: libvirt.virConnect, prefix: str, first: int, end: int) -> Iterator[None]:
    try:
        for i in range(first, end):
            xml = DOMAIN_XML.format(name=f"{prefix}{i:03d}")
            conn.createXML(xml, libvirt.VIR_DOMAIN_START_PAUSED)
        yield
    finally:
        if first == 0:
            sandbox.destroy_domains(prefix)


def _rounds(conn: libvirt.virConnect, prefix: str, count: int) -> tuple[float, float, float]:
    """CPU s, wall s of one sampling round (bulk call, parsing, measurements, history
    write), and libvirtd's CPU s in it; averages over ROUNDS."""
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock()
        history = History(Database(Path(tmp) / "engine.db"), clock)
        previous: dict[str, VmSample] = {}
        daemon = _libvirtd_pid()
        cpu, wall, daemon_cpu = time.thread_time(), time.monotonic(), _cpu_of(daemon)
        for _ in range(ROUNDS):
            samples = sample_domains(conn, prefix=prefix)
            if len(samples) != count:  # libvirtd restarted under us: the domains are gone
                raise libvirt.libvirtError(f"{len(samples)} of {count} domains answered")
            found = [vm_measurement(s.uuid, s.name, now=clock.now(), memory_installed=16 << 20,
                                    current=s, seconds=10.0, previous=previous.get(s.uuid))
                     for s in samples]
            previous = {s.uuid: s for s in samples}
            history.record(found)
            clock.advance(10)
        return ((time.thread_time() - cpu) / ROUNDS, (time.monotonic() - wall) / ROUNDS,
                (_cpu_of(daemon) - daemon_cpu) / ROUNDS)


def _libvirtd_pid() -> int | None:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "libvirtd":
                    return int(entry.name)
    return None


def _cpu_of(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # libvirtd restarted under us: measure again
        raise libvirt.libvirtError("libvirtd restarted during the measurement") from None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# History size


def _history_size() -> list[Figure]:
    vms = [str(uuid.uuid4()) for _ in range(50)]  # ids as long as real ones
    with tempfile.TemporaryDirectory() as tmp:
        day_bytes, day_rows, _ = _simulate(Path(tmp) / "day.db", vms,
                                           [(DAY, 10)])
        month_bytes, month_rows, seconds = _simulate(
            Path(tmp) / "month.db", vms, [(29 * DAY, 10 * MINUTE), (23 * HOUR, MINUTE),
                                          (HOUR, 10)])
    return [
        Figure("history database after a month, 50 VMs", month_bytes / 2**20, "MiB",
               baseline=day_bytes / 2**20, target="baseline: after one day at 10 s"),
        Figure("history rows after a month, 50 VMs", month_rows, "rows", baseline=day_rows),
        Figure("history write per 10 s round, 52 objects", seconds * 1e3, "ms"),
    ]


def _simulate(path: Path, vms: list[str], phases: list[tuple[int, int]]
              ) -> tuple[int, int, float]:
    """Feed the phases (duration, step); returns file bytes, rows, and seconds per round of
    the last phase."""
    clock = ManualClock(1_700_000_400.0)
    db = Database(path)
    history = History(db, clock)
    spent, rounds = 0.0, 0
    for duration, step in phases:
        spent, rounds = 0.0, 0
        for n in range(duration // step):
            batch = _batch(vms, clock.now(), n)
            started = time.perf_counter()
            history.record(batch)
            spent += time.perf_counter() - started
            rounds += 1
            clock.advance(step)
    db.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.connection.execute("PRAGMA page_count").fetchone()[0] * \
        db.connection.execute("PRAGMA page_size").fetchone()[0]
    rows = history.row_count()
    db.close()
    return size, rows, spent / max(1, rounds)


def _batch(vms: list[str], now: float, n: int) -> list[Measurement]:
    found = []
    for i, vm in enumerate(vms):
        # Busy-looking VMs: every rate nonzero and irregular, so the JSON is as long as real.
        io = (n * 7919 + i * 104729) % 999_983
        before = VmSample(uuid=vm, name=vm, state=1, cpu_time=n * 1.0 + i, cpu_user=0,
                          cpu_system=0, vcpus=1, memory_current=512 << 20,
                          memory_maximum=512 << 20, memory_rss=(300 + (n * 7 + i) % 200) << 20,
                          disks=(BlockCounters("vda", allocation=(200 << 20) + io),),
                          nics=(InterfaceCounters("vnet0"),))
        after = VmSample(uuid=vm, name=vm, state=1, cpu_time=n * 1.0 + i + 3.7 * (i % 3),
                         cpu_user=0, cpu_system=0, vcpus=1, memory_current=512 << 20,
                         memory_maximum=512 << 20, memory_rss=before.memory_rss,
                         disks=(BlockCounters("vda", read_bytes=io * 37, write_bytes=io * 11,
                                              allocation=(200 << 20) + io),),
                         nics=(InterfaceCounters("vnet0", rx_bytes=io * 3, tx_bytes=io),))
        found.append(vm_measurement(vm, vm, now=now, memory_installed=512 << 20,
                                    current=after, seconds=10.0, previous=before))
    found.append(Measurement(ObjectKind.HOST, "host", "host", now, {
        key: float(n % 97) for key in ("cpu_used", "cpu_user", "cpu_system", "cpu_idle",
                                       "cpu_iowait", "load_1m", "mem_total", "mem_used",
                                       "mem_free", "mem_buffers", "mem_cached", "swap_total",
                                       "swap_used", "ksm_running", "ksm_shared", "ksm_saved",
                                       "vms_running", "net_rx", "net_tx", "disk_read",
                                       "disk_write", "cpus")}))
    found.append(storage_measurement("sd", "ram", now=now, capacity=16 << 30,
                                     used=(n % 1000) << 20, free=(16 << 30) - ((n % 1000) << 20),
                                     committed=40 << 30))
    return found
