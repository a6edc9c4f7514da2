"""The host agent's raw statistics: /proc and /sys parsing, and libvirt's bulk records."""

from __future__ import annotations

import os
from pathlib import Path

from appliance.engine.monitoring.measurements import host_measurement, vm_measurement
from appliance.vdsm.stats import AgentSample, HostProbe, parse_domain_stats

HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# /proc/net/dev: two header lines, then 8 receive and 8 transmit counters per interface.
NET_DEV = ("Inter-|   Receive |  Transmit\n face |bytes packets errs drop ...\n"
           "    lo: {lo} 164 0 0 0 0 0 0 26747 164 0 0 0 0 0 0\n"
           "  eth0: {rx} 26266 0 0 0 0 0 0 {tx} 14366 0 0 0 0 0 0\n")


def _tree(root: Path, *, busy: int, idle: int, rx: int, sharing: int) -> HostProbe:
    proc, sys = root / "proc", root / "sys"
    (proc / "net").mkdir(parents=True, exist_ok=True)
    (sys / "kernel/mm/ksm").mkdir(parents=True, exist_ok=True)
    (sys / "block/vda").mkdir(parents=True, exist_ok=True)
    (sys / "block/loop0").mkdir(parents=True, exist_ok=True)
    (proc / "stat").write_text(f"cpu  {busy} 0 {busy} {idle} 0 0 0 0 0 0\n"
                               f"cpu0 {busy} 0 {busy} {idle} 0 0 0 0 0 0\nbtime 1700000000\n")
    (proc / "meminfo").write_text("MemTotal:       8000 kB\nMemFree:        1000 kB\n"
                                  "MemAvailable:   3000 kB\nBuffers:         100 kB\n"
                                  "Cached:          500 kB\nSwapTotal:         0 kB\n"
                                  "SwapFree:          0 kB\nHugePages_Total:   0\n")
    (proc / "loadavg").write_text("0.50 0.40 0.30 1/100 1234\n")
    (proc / "net/dev").write_text(NET_DEV.format(lo=999_999, rx=rx, tx=2000))
    (proc / "diskstats").write_text(
        " 254 0 vda 10 0 80 0 20 0 160 0 0 0 0 0 0 0 0 0 0\n"
        "   7 0 loop0 10 0 9999 0 20 0 9999 0 0 0 0 0 0 0 0 0 0\n")
    ksm = sys / "kernel/mm/ksm"
    for name, value in {"run": 1, "pages_shared": 10, "pages_sharing": sharing,
                        "pages_unshared": 5, "full_scans": 2}.items():
        (ksm / name).write_text(f"{value}\n")
    return HostProbe(proc=proc, sys=sys)


def test_host_probe_reads_cpu_memory_ksm_network_and_disks(tmp_path: Path) -> None:
    host = _tree(tmp_path, busy=100, idle=800, rx=5000, sharing=30).read()
    assert host.cpu.user == 100 / HZ and host.cpu.idle == 800 / HZ
    assert (host.memory.total, host.memory.used) == (8000 * 1024, 5000 * 1024)
    assert host.ksm.running and host.ksm.saved_bytes == 30 * PAGE
    assert {i.name for i in host.interfaces} == {"lo", "eth0"}
    assert [(d.name, d.read_bytes, d.write_bytes) for d in host.disks] == [("vda", 80 * 512,
                                                                           160 * 512)]
    assert host.boot_time == 1_700_000_000 and host.load_1m == 0.5


def test_host_rates_come_from_two_samples(tmp_path: Path) -> None:
    first = AgentSample(0.0, 100.0, _tree(tmp_path, busy=100, idle=800, rx=5000,
                                           sharing=30).read(), ())
    second = AgentSample(10.0, 110.0, _tree(tmp_path, busy=200, idle=1000, rx=25000,
                                             sharing=30).read(), ())
    m = host_measurement("h", "host", now=10.0, current=second, previous=first, vms_running=0)
    # 200 busy ticks (user + system) of 400: half the CPU time was busy.
    assert m.values["cpu_used"] == 50.0
    assert m.values["net_rx"] == 2000.0  # bytes/s on eth0; lo is not counted
    assert m.values["ksm_saved"] == 30 * PAGE
    assert "cpu_used" not in host_measurement("h", "host", now=0.0, current=first,
                                              previous=None, vms_running=0).values


def test_the_real_host_reads() -> None:
    host = HostProbe().read()
    assert host.memory.total > 0 and host.cpu.total > 0 and host.cpus >= 1


RECORD = {"state.state": 1, "cpu.time": 3_000_000_000, "cpu.user": 2_000_000_000,
          "cpu.system": 1_000_000_000, "balloon.current": 262144, "balloon.maximum": 262144,
          "balloon.rss": 149668, "vcpu.current": 2, "net.count": 1, "net.0.name": "vnet0",
          "net.0.rx.bytes": 1000, "net.0.tx.bytes": 500, "block.count": 1,
          "block.0.name": "vda", "block.0.rd.bytes": 4096, "block.0.wr.bytes": 0,
          "block.0.rd.reqs": 1, "block.0.wr.reqs": 0, "block.0.allocation": 1 << 20,
          "block.0.capacity": 1 << 30}


def test_a_bulk_record_becomes_a_vm_sample_and_a_cpu_rate() -> None:
    before = parse_domain_stats("d", "u", RECORD)
    after = parse_domain_stats("d", "u", {**RECORD, "cpu.time": 4_000_000_000,
                                          "net.0.rx.bytes": 3000})
    assert before.memory_current == 256 * 1024 * 1024 and before.vcpus == 2
    assert before.disks[0].capacity == 1 << 30 and before.nics[0].rx_bytes == 1000
    m = vm_measurement("u", "d", now=0.0, memory_installed=256 << 20, current=after,
                       seconds=2.0, previous=before)
    # One CPU-second in two seconds over two vCPUs: a quarter of the VM's CPU.
    assert m.values["cpu"] == 25.0
    assert m.values["net_rx"] == 1000.0
    assert m.values["mem_used"] == 149668 * 1024  # no guest balloon stats: QEMU's RSS
    # 2000 bytes/s of traffic on one NIC of 1 Gbit/s (125 MB/s)
    assert m.values["net_total"] == 100 * 1000 / 125_000_000


def _oVirt_extras(probe: HostProbe, *, ksmd_ticks: int) -> HostProbe:
    """Swap cache, huge page pools and a ksmd thread in the fixture tree."""
    meminfo = probe.proc / "meminfo"
    meminfo.write_text(meminfo.read_text().replace("SwapTotal:         0 kB\nSwapFree:"
                                                   "          0 kB",
                                                   "SwapTotal:      2000 kB\nSwapFree:"
                                                   "       1500 kB\nSwapCached:      100 kB"))
    for size, total, free in ((2048, 64, 60), (1048576, 2, 2)):
        pool = probe.sys / f"kernel/mm/hugepages/hugepages-{size}kB"
        pool.mkdir(parents=True, exist_ok=True)
        (pool / "nr_hugepages").write_text(f"{total}\n")
        (pool / "free_hugepages").write_text(f"{free}\n")
    ksmd = probe.proc / "77"
    ksmd.mkdir(exist_ok=True)
    (ksmd / "comm").write_text("ksmd\n")
    (ksmd / "stat").write_text(f"77 (ksmd) S 2 0 0 0 -1 2129984 0 0 0 0 {ksmd_ticks} 0 0 0 "
                               "25 5 1 0 0 0 0\n")
    return probe


def test_the_statistics_ovirt_adds_swap_load_hugepages_and_ksmd(tmp_path: Path) -> None:
    first = _oVirt_extras(_tree(tmp_path, busy=100, idle=800, rx=0, sharing=0),
                          ksmd_ticks=0).read()
    assert (first.memory.swap_free, first.memory.swap_cached) == (1500 * 1024, 100 * 1024)
    assert first.load_5m == 0.4
    assert [(p.size_kib, p.total, p.free) for p in first.hugepages] == [
        (1048576, 2, 2), (2048, 64, 60)]
    second = _oVirt_extras(_tree(tmp_path, busy=200, idle=1000, rx=0, sharing=0),
                           ksmd_ticks=HZ).read()  # ksmd ran one second of ten
    m = host_measurement("h", "host", now=10.0, current=AgentSample(10.0, 110.0, second, ()),
                         previous=AgentSample(0.0, 100.0, first, ()), vms_running=0)
    assert m.values["ksm_cpu"] == 100 * 0.1 / second.cpus
    assert m.values["hugepages_2048_free"] == 60 and m.values["swap_cached"] == 100 * 1024
