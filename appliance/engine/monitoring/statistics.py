"""oVirt's statistics of a VM and a host (its ``Statistic`` type: name, kind, type, unit and
value), made from the sampler's latest measurement.

Names follow oVirt where it has one (``cpu.current.total``, ``memory.used``,
``memory.shared``, ``ksm.cpu.current`` ...); a few it has only on disks and NICs are given
at the VM and host level too (``data.current.read`` ...). A VM that is down, or not yet
measured twice, has its configured values only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from appliance.engine.model import Host, Vm
from appliance.engine.monitoring.measurements import Measurement


class StatisticKind(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"


class ValueType(StrEnum):
    DECIMAL = "decimal"
    INTEGER = "integer"
    STRING = "string"


class StatisticUnit(StrEnum):
    NONE = "none"
    PERCENT = "percent"
    BYTES = "bytes"
    BYTES_PER_SECOND = "bytes_per_second"
    SECONDS = "seconds"


@dataclass(frozen=True)
class Statistic:
    name: str
    description: str
    kind: StatisticKind
    type: ValueType
    unit: StatisticUnit
    value: float
    text: str = ""  # a STRING statistic's value (oVirt's <detail>)

    @property
    def id(self) -> str:
        """oVirt's statistic ids are stable per name; ours are the name in hex."""
        return self.name.encode().hex()

    @property
    def datum(self) -> str | None:
        if self.type is ValueType.STRING:
            return None
        return str(int(self.value)) if self.type is ValueType.INTEGER else f"{self.value:.2f}"


_G, _C = StatisticKind.GAUGE, StatisticKind.COUNTER
_D, _I = ValueType.DECIMAL, ValueType.INTEGER
_U = StatisticUnit

# name, description, kind, type, unit, measurement key (values, else counters)
_VM = (
    ("cpu.current.total", "Total CPU used", _G, _D, _U.PERCENT, "cpu"),
    ("cpu.current.guest", "CPU used by guest", _G, _D, _U.PERCENT, "cpu"),
    ("memory.used", "Memory used (the guest's view if it reports, else held on the host)",
     _G, _I, _U.BYTES, "mem_used"),
    ("memory.current", "Memory the balloon leaves the guest", _G, _I, _U.BYTES,
     "mem_current"),
    ("memory.rss", "Memory held on the host", _G, _I, _U.BYTES, "mem_rss"),
    ("data.current.read", "Disk read rate", _G, _D, _U.BYTES_PER_SECOND, "disk_read"),
    ("data.current.write", "Disk write rate", _G, _D, _U.BYTES_PER_SECOND, "disk_write"),
    ("data.current.rx", "Network receive rate", _G, _D, _U.BYTES_PER_SECOND, "net_rx"),
    ("data.current.tx", "Network transmit rate", _G, _D, _U.BYTES_PER_SECOND, "net_tx"),
    ("data.total.read", "Bytes read from disks", _C, _I, _U.BYTES, "disk_read_bytes"),
    ("data.total.write", "Bytes written to disks", _C, _I, _U.BYTES, "disk_write_bytes"),
    ("data.total.rx", "Bytes received", _C, _I, _U.BYTES, "net_rx_bytes"),
    ("data.total.tx", "Bytes sent", _C, _I, _U.BYTES, "net_tx_bytes"),
    ("cpu.total.time", "CPU time used", _C, _D, _U.SECONDS, "cpu_seconds"),
    ("network.current.total", "Total network usage (of the NICs' 1 Gbit/s each)", _G, _D,
     _U.PERCENT, "net_total"),
)

_HOST = (
    ("memory.total", "Total memory", _G, _I, _U.BYTES, "mem_total"),
    ("memory.used", "Used memory", _G, _I, _U.BYTES, "mem_used"),
    ("memory.free", "Free memory", _G, _I, _U.BYTES, "mem_free"),
    ("memory.buffers", "IO buffers", _G, _I, _U.BYTES, "mem_buffers"),
    ("memory.cached", "OS caches", _G, _I, _U.BYTES, "mem_cached"),
    ("memory.shared", "Memory shared by KSM", _G, _I, _U.BYTES, "ksm_shared"),
    ("memory.ksm.saved", "Memory KSM page sharing saves", _G, _I, _U.BYTES, "ksm_saved"),
    ("swap.total", "Total swap", _G, _I, _U.BYTES, "swap_total"),
    ("swap.used", "Used swap", _G, _I, _U.BYTES, "swap_used"),
    ("swap.free", "Free swap", _G, _I, _U.BYTES, "swap_free"),
    ("swap.cached", "Swap also in memory", _G, _I, _U.BYTES, "swap_cached"),
    ("ksm.cpu.current", "CPU used by KSM page merging (ksmd)", _G, _D, _U.PERCENT, "ksm_cpu"),
    ("cpu.current.user", "User CPU usage", _G, _D, _U.PERCENT, "cpu_user"),
    ("cpu.current.system", "System CPU usage", _G, _D, _U.PERCENT, "cpu_system"),
    ("cpu.current.idle", "Idle CPU usage", _G, _D, _U.PERCENT, "cpu_idle"),
    ("cpu.load.avg.1m", "CPU load average over one minute", _G, _D, _U.NONE, "load_1m"),
    ("cpu.load.avg.5m", "CPU load average over five minutes", _G, _D, _U.NONE, "load_5m"),
    ("data.current.rx", "Network receive rate", _G, _D, _U.BYTES_PER_SECOND, "net_rx"),
    ("data.current.tx", "Network transmit rate", _G, _D, _U.BYTES_PER_SECOND, "net_tx"),
    ("data.current.read", "Disk read rate", _G, _D, _U.BYTES_PER_SECOND, "disk_read"),
    ("data.current.write", "Disk write rate", _G, _D, _U.BYTES_PER_SECOND, "disk_write"),
    ("vms.running", "VMs running", _G, _I, _U.NONE, "vms_running"),
    ("boot.time", "Boot time (seconds since the epoch)", _G, _I, _U.NONE, "boot_time"),
)


def vm_statistics(vm: Vm, latest: Measurement | None, *, now: float | None = None
                  ) -> list[Statistic]:
    found = [
        Statistic("memory.installed", "Total memory configured", _G, _I, _U.BYTES, vm.memory),
        Statistic("cpu.count", "Virtual CPUs", _G, _I, _U.NONE, vm.vcpus),
    ]
    if vm.status.is_running and vm.start_time:
        elapsed = (now if now is not None else time.time()) - vm.start_time
        found.append(Statistic("elapsed.time", "Elapsed VM runtime", _C, _I, _U.SECONDS,
                               max(0.0, elapsed)))
    if latest is not None:
        # oVirt's guest filesystems as its guest agent reports them: VirtStick's guests run
        # none, so the list is empty (as oVirt's for a guest without an agent)
        found.append(Statistic("disks.usage", "Disk usage of the guest's filesystems", _G,
                               ValueType.STRING, _U.NONE, 0.0, text="[]"))
    return found + _from(_VM, latest)


def host_statistics(host: Host, latest: Measurement | None) -> list[Statistic]:
    found = [Statistic("cpu.count", "CPUs", _G, _I, _U.NONE, host.cpus)]
    return found + _from(_HOST, latest) + _hugepages(latest)


def _hugepages(latest: Measurement | None) -> list[Statistic]:
    """``hugepages.<size in KiB>.total`` and ``.free`` per huge page size (pages)."""
    if latest is None:
        return []
    found = []
    for key, value in sorted(latest.values.items()):
        if key.startswith("hugepages_"):
            _, size, which = key.split("_")
            found.append(Statistic(f"hugepages.{size}.{which}",
                                   f"{which.title()} huge pages of {size} KiB", _G, _I,
                                   _U.NONE, value))
    return found


def _from(table: tuple[tuple[str, str, StatisticKind, ValueType, StatisticUnit, str], ...],
          latest: Measurement | None) -> list[Statistic]:
    if latest is None:
        return []
    found = []
    for name, description, kind, type_, unit, key in table:
        value = latest.values.get(key, latest.counters.get(key))
        if value is not None:
            found.append(Statistic(name, description, kind, type_, unit, float(value)))
    return found
