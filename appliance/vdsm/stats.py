"""Raw statistics of a host and its domains, as the host agent reads them.

The values are counters and levels as the kernel and libvirt report them (CPU time,
bytes moved, pages shared); the engine's sampler turns two samples into rates. All running
domains are read with libvirt's bulk call ``getAllDomainStats``: one round trip, however
many VMs run. The host side reads ``/proc`` and ``/sys`` under roots passed in, so tests and
benchmarks can point them at fixture trees.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import libvirt

# What the bulk call asks for: state, CPU time, balloon, vCPUs, NICs and disks.
DOMAIN_STATS = (libvirt.VIR_DOMAIN_STATS_STATE | libvirt.VIR_DOMAIN_STATS_CPU_TOTAL
                | libvirt.VIR_DOMAIN_STATS_BALLOON | libvirt.VIR_DOMAIN_STATS_VCPU
                | libvirt.VIR_DOMAIN_STATS_INTERFACE | libvirt.VIR_DOMAIN_STATS_BLOCK)

_USER_HZ = os.sysconf("SC_CLK_TCK")
_SECTOR = 512


@dataclass(frozen=True)
class CpuTimes:
    """Seconds the host's CPUs spent in each state since boot (all CPUs summed)."""

    user: float = 0.0
    nice: float = 0.0
    system: float = 0.0
    idle: float = 0.0
    iowait: float = 0.0
    irq: float = 0.0
    softirq: float = 0.0
    steal: float = 0.0

    @property
    def total(self) -> float:
        return (self.user + self.nice + self.system + self.idle + self.iowait + self.irq
                + self.softirq + self.steal)


@dataclass(frozen=True)
class MemoryInfo:
    """Bytes, from /proc/meminfo."""

    total: int = 0
    free: int = 0
    available: int = 0
    buffers: int = 0
    cached: int = 0
    swap_total: int = 0
    swap_free: int = 0
    swap_cached: int = 0

    @property
    def used(self) -> int:
        return self.total - self.available


@dataclass(frozen=True)
class KsmInfo:
    """Kernel same-page merging: ``pages_sharing`` pages are backed by ``pages_shared``."""

    running: bool = False
    pages_shared: int = 0
    pages_sharing: int = 0
    pages_unshared: int = 0
    full_scans: int = 0
    page_size: int = 4096
    cpu_seconds: float = 0.0  # CPU time the ksmd kernel thread used since boot

    @property
    def saved_bytes(self) -> int:
        """Memory the merging saves: every sharing page beyond its one shared copy."""
        return self.pages_sharing * self.page_size


@dataclass(frozen=True)
class HugePages:
    """One huge page size's pool, from /sys/kernel/mm/hugepages."""

    size_kib: int
    total: int = 0
    free: int = 0


@dataclass(frozen=True)
class InterfaceCounters:
    name: str
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0
    rx_errors: int = 0
    tx_errors: int = 0


@dataclass(frozen=True)
class BlockCounters:
    name: str
    read_bytes: int = 0
    write_bytes: int = 0
    read_requests: int = 0
    write_requests: int = 0
    allocation: int = 0  # bytes the image uses (VM disks only)
    capacity: int = 0  # virtual size (VM disks only)


@dataclass(frozen=True)
class HostSample:
    cpus: int
    cpu: CpuTimes
    memory: MemoryInfo
    ksm: KsmInfo
    load_1m: float
    boot_time: float
    interfaces: tuple[InterfaceCounters, ...] = ()
    disks: tuple[BlockCounters, ...] = ()
    load_5m: float = 0.0
    hugepages: tuple[HugePages, ...] = ()


@dataclass(frozen=True)
class VmSample:
    uuid: str
    name: str
    state: int  # libvirt's VIR_DOMAIN_* state
    cpu_time: float  # seconds, all vCPUs and QEMU's own threads
    cpu_user: float
    cpu_system: float
    vcpus: int
    memory_current: int  # bytes the balloon leaves the guest
    memory_maximum: int
    memory_rss: int  # bytes QEMU holds on the host
    memory_unused: int | None = None  # guest-reported (virtio-balloon stats), when known
    memory_usable: int | None = None
    disks: tuple[BlockCounters, ...] = ()
    nics: tuple[InterfaceCounters, ...] = ()


@dataclass(frozen=True)
class AgentSample:
    """One sampling of a host: the host itself and every running domain."""

    time: float  # wall clock, seconds since the epoch
    monotonic: float  # for rates: never jumps
    host: HostSample
    vms: tuple[VmSample, ...]


@dataclass(frozen=True)
class HostProbe:
    """Reads the host's counters; the roots are parameters so fixtures can stand in."""

    proc: Path = Path("/proc")
    sys: Path = Path("/sys")

    def read(self) -> HostSample:
        load = self._text("loadavg").split()
        return HostSample(
            cpus=os.cpu_count() or 1,
            cpu=parse_cpu(self._text("stat")),
            memory=parse_meminfo(self._text("meminfo")),
            ksm=self._ksm(),
            load_1m=float(load[0]),
            load_5m=float(load[1]) if len(load) > 1 else 0.0,
            boot_time=_boot_time(self._text("stat")),
            interfaces=parse_net_dev(self._text("net/dev")),
            disks=self._disks(),
            hugepages=self._hugepages(),
        )

    def _hugepages(self) -> tuple[HugePages, ...]:
        folder = self.sys / "kernel/mm/hugepages"
        if not folder.is_dir():
            return ()
        found = []
        for pool in sorted(folder.glob("hugepages-*kB")):
            try:
                size = int(pool.name.removeprefix("hugepages-").removesuffix("kB"))
                found.append(HugePages(
                    size_kib=size, total=int((pool / "nr_hugepages").read_text()),
                    free=int((pool / "free_hugepages").read_text())))
            except (OSError, ValueError):
                continue
        return tuple(found)

    def _ksmd_seconds(self) -> float:
        """ksmd's user and system time (fields 14 and 15 of its stat), 0 without ksmd."""
        pid = _ksmd_pid(self.proc)
        if pid is None:
            return 0.0
        try:
            stat = (self.proc / str(pid) / "stat").read_text()
        except OSError:
            _ksmd_pid.cache_clear()
            return 0.0
        fields = stat.rpartition(")")[2].split()  # after the command, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / _USER_HZ if len(fields) > 12 else 0.0

    def _text(self, name: str) -> str:
        return (self.proc / name).read_text()

    def _ksm(self) -> KsmInfo:
        folder = self.sys / "kernel/mm/ksm"
        if not folder.is_dir():
            return KsmInfo()

        def value(name: str) -> int:
            try:
                return int((folder / name).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                return 0

        return KsmInfo(running=value("run") == 1, pages_shared=value("pages_shared"),
                       pages_sharing=value("pages_sharing"),
                       pages_unshared=value("pages_unshared"), full_scans=value("full_scans"),
                       page_size=os.sysconf("SC_PAGE_SIZE"), cpu_seconds=self._ksmd_seconds())

    def _disks(self) -> tuple[BlockCounters, ...]:
        # Whole devices only (partitions would count twice); loop and ram devices are noise.
        block = self.sys / "block"
        whole = {p.name for p in block.iterdir()} if block.is_dir() else set()
        wanted = {n for n in whole if not n.startswith(("loop", "ram"))}
        return tuple(d for d in parse_diskstats(self._text("diskstats")) if d.name in wanted)


@functools.cache
def _ksmd_pid(proc: Path) -> int | None:
    """The ksmd kernel thread's pid: found once (a scan of /proc), then kept."""
    for entry in proc.iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "ksmd":
                    return int(entry.name)
            except OSError:
                continue
    return None


def parse_cpu(stat: str) -> CpuTimes:
    fields = stat.split("\n", 1)[0].split()
    assert fields[0] == "cpu", "the first line of /proc/stat sums all CPUs"
    ticks = [int(v) / _USER_HZ for v in fields[1:9]]
    ticks += [0.0] * (8 - len(ticks))
    return CpuTimes(*ticks)


def _boot_time(stat: str) -> float:
    for line in stat.splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return 0.0


def parse_meminfo(text: str) -> MemoryInfo:
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts:
            values[key] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    return MemoryInfo(total=values.get("MemTotal", 0), free=values.get("MemFree", 0),
                      available=values.get("MemAvailable", values.get("MemFree", 0)),
                      buffers=values.get("Buffers", 0), cached=values.get("Cached", 0),
                      swap_total=values.get("SwapTotal", 0),
                      swap_free=values.get("SwapFree", 0),
                      swap_cached=values.get("SwapCached", 0))


def parse_net_dev(text: str) -> tuple[InterfaceCounters, ...]:
    found = []
    for line in text.splitlines()[2:]:
        name, _, rest = line.partition(":")
        v = [int(x) for x in rest.split()]
        if len(v) < 16:
            continue
        found.append(InterfaceCounters(name=name.strip(), rx_bytes=v[0], rx_packets=v[1],
                                       rx_errors=v[2], tx_bytes=v[8], tx_packets=v[9],
                                       tx_errors=v[10]))
    return tuple(found)


def parse_diskstats(text: str) -> tuple[BlockCounters, ...]:
    found = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10:
            continue
        found.append(BlockCounters(name=f[2], read_requests=int(f[3]),
                                   read_bytes=int(f[5]) * _SECTOR, write_requests=int(f[7]),
                                   write_bytes=int(f[9]) * _SECTOR))
    return tuple(found)


def parse_domain_stats(name: str, uuid: str, record: Mapping[str, Any]) -> VmSample:
    """One entry of ``getAllDomainStats``; balloon values come in KiB, times in ns."""

    def kib(key: str) -> int | None:
        value = record.get(key)
        return None if value is None else int(value) * 1024

    return VmSample(
        uuid=uuid, name=name, state=int(record.get("state.state", 0)),
        cpu_time=record.get("cpu.time", 0) / 1e9,
        cpu_user=record.get("cpu.user", 0) / 1e9,
        cpu_system=record.get("cpu.system", 0) / 1e9,
        vcpus=int(record.get("vcpu.current", 1)),
        memory_current=kib("balloon.current") or 0,
        memory_maximum=kib("balloon.maximum") or 0,
        memory_rss=kib("balloon.rss") or 0,
        memory_unused=kib("balloon.unused"),
        memory_usable=kib("balloon.usable"),
        disks=tuple(_blocks(record)),
        nics=tuple(_nics(record)),
    )


def _blocks(record: Mapping[str, Any]) -> Iterable[BlockCounters]:
    for i in range(int(record.get("block.count", 0))):
        p = f"block.{i}."
        yield BlockCounters(
            name=str(record.get(p + "name", f"disk{i}")),
            read_bytes=int(record.get(p + "rd.bytes", 0)),
            write_bytes=int(record.get(p + "wr.bytes", 0)),
            read_requests=int(record.get(p + "rd.reqs", 0)),
            write_requests=int(record.get(p + "wr.reqs", 0)),
            allocation=int(record.get(p + "allocation", 0)),
            capacity=int(record.get(p + "capacity", 0)))


def _nics(record: Mapping[str, Any]) -> Iterable[InterfaceCounters]:
    for i in range(int(record.get("net.count", 0))):
        p = f"net.{i}."
        yield InterfaceCounters(
            name=str(record.get(p + "name", f"net{i}")),
            rx_bytes=int(record.get(p + "rx.bytes", 0)),
            tx_bytes=int(record.get(p + "tx.bytes", 0)),
            rx_packets=int(record.get(p + "rx.pkts", 0)),
            tx_packets=int(record.get(p + "tx.pkts", 0)),
            rx_errors=int(record.get(p + "rx.errs", 0)),
            tx_errors=int(record.get(p + "tx.errs", 0)))


def sample_domains(conn: libvirt.virConnect, *, prefix: str = "") -> tuple[VmSample, ...]:
    """Every running domain whose name starts with ``prefix``, in one libvirt call."""
    try:
        records = conn.getAllDomainStats(
            DOMAIN_STATS, libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
    except libvirt.libvirtError:
        return ()
    found = []
    for dom, record in records:
        name = dom.name()
        if name.startswith(prefix):
            found.append(parse_domain_stats(name, dom.UUIDString(), record))
    return tuple(found)


def sample(conn: libvirt.virConnect, probe: HostProbe, *, prefix: str = "") -> AgentSample:
    return AgentSample(time=time.time(), monotonic=time.monotonic(), host=probe.read(),
                       vms=sample_domains(conn, prefix=prefix))
