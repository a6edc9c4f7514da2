"""Measurements: what the sampler makes of two raw samples, per host, VM and storage domain.

``values`` are levels and rates (percent, bytes, bytes per second) that history averages;
``counters`` only ever grow (CPU seconds, bytes moved) and are what Prometheus wants. A rate
needs the previous sample, so a VM's first measurement has levels only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from appliance.vdsm.stats import AgentSample, HostSample, VmSample
from appliance.vdsm.storage_interface import RamUse

NIC_SPEED_BYTES = 1_000_000_000 / 8  # a virtual NIC's speed as oVirt counts it, per second


class ObjectKind(StrEnum):
    HOST = "host"
    VM = "vm"
    STORAGE_DOMAIN = "storage_domain"


@dataclass(frozen=True)
class Measurement:
    kind: ObjectKind
    object_id: str
    name: str
    time: float
    values: Mapping[str, float] = field(default_factory=dict)
    counters: Mapping[str, float] = field(default_factory=dict)


def host_measurement(host_id: str, name: str, *, now: float, current: AgentSample,
                     previous: AgentSample | None, vms_running: int) -> Measurement:
    h = current.host
    values: dict[str, float] = {
        "load_1m": h.load_1m, "load_5m": h.load_5m, "cpus": h.cpus,
        "mem_total": h.memory.total, "mem_used": h.memory.used, "mem_free": h.memory.free,
        "mem_buffers": h.memory.buffers, "mem_cached": h.memory.cached,
        "swap_total": h.memory.swap_total,
        "swap_used": h.memory.swap_total - h.memory.swap_free,
        "swap_free": h.memory.swap_free, "swap_cached": h.memory.swap_cached,
        "ksm_running": float(h.ksm.running),
        "ksm_shared": h.ksm.pages_shared * h.ksm.page_size,
        "ksm_saved": h.ksm.saved_bytes,
        "vms_running": vms_running,
        **{f"hugepages_{p.size_kib}_{k}": v for p in h.hugepages
           for k, v in (("total", p.total), ("free", p.free))},
    }
    net, disk = _host_io(h)
    counters = {"cpu_user_seconds": h.cpu.user + h.cpu.nice, "cpu_system_seconds":
                h.cpu.system + h.cpu.irq + h.cpu.softirq, "cpu_idle_seconds": h.cpu.idle,
                "cpu_iowait_seconds": h.cpu.iowait, "net_rx_bytes": net[0],
                "net_tx_bytes": net[1], "disk_read_bytes": disk[0], "disk_write_bytes": disk[1],
                "boot_time": h.boot_time, "ksm_cpu_seconds": h.ksm.cpu_seconds}
    if previous is not None:
        values.update(_host_rates(current, previous, counters))
    return Measurement(ObjectKind.HOST, host_id, name, now, values, counters)


def _host_io(h: HostSample) -> tuple[tuple[int, int], tuple[int, int]]:
    # Loopback traffic never leaves the machine: it is not the host's network use.
    rx = sum(i.rx_bytes for i in h.interfaces if i.name != "lo")
    tx = sum(i.tx_bytes for i in h.interfaces if i.name != "lo")
    return (rx, tx), (sum(d.read_bytes for d in h.disks), sum(d.write_bytes for d in h.disks))


def _host_rates(current: AgentSample, previous: AgentSample,
                counters: Mapping[str, float]) -> dict[str, float]:
    cpu, before = current.host.cpu, previous.host.cpu
    total = cpu.total - before.total
    seconds = current.monotonic - previous.monotonic
    if total <= 0 or seconds <= 0:
        return {}
    idle = cpu.idle - before.idle
    net, disk = _host_io(previous.host)
    return {
        "cpu_user": 100 * (cpu.user + cpu.nice - before.user - before.nice) / total,
        "cpu_system": 100 * (cpu.system + cpu.irq + cpu.softirq - before.system - before.irq
                             - before.softirq) / total,
        "cpu_iowait": 100 * (cpu.iowait - before.iowait) / total,
        "cpu_idle": 100 * idle / total,
        "cpu_used": 100 * (total - idle - (cpu.iowait - before.iowait)) / total,
        "net_rx": _rate(counters["net_rx_bytes"], net[0], seconds),
        "net_tx": _rate(counters["net_tx_bytes"], net[1], seconds),
        "disk_read": _rate(counters["disk_read_bytes"], disk[0], seconds),
        "disk_write": _rate(counters["disk_write_bytes"], disk[1], seconds),
        # oVirt's ksm.cpu.current: ksmd's share of all the host's CPUs
        "ksm_cpu": min(100.0, 100 * _rate(counters["ksm_cpu_seconds"],
                                          previous.host.ksm.cpu_seconds, seconds)
                       / max(1, current.host.cpus)),
    }


def vm_measurement(vm_id: str, name: str, *, now: float, memory_installed: int,
                   current: VmSample, seconds: float,
                   previous: VmSample | None) -> Measurement:
    """``seconds``: monotonic time between ``previous`` and ``current``."""
    # The guest's own view of used memory needs virtio-balloon stats; without them the best
    # host-side figure is what QEMU holds (RSS), capped at what the guest was given.
    if current.memory_usable is not None:
        used = current.memory_current - current.memory_usable
    else:
        used = min(current.memory_rss, current.memory_current or current.memory_rss)
    values: dict[str, float] = {
        "mem_installed": memory_installed, "mem_current": current.memory_current,
        "mem_used": max(0, used), "mem_rss": current.memory_rss, "vcpus": current.vcpus,
        "disk_allocation": sum(d.allocation for d in current.disks),
    }
    counters = {
        "cpu_seconds": current.cpu_time, "cpu_user_seconds": current.cpu_user,
        "cpu_system_seconds": current.cpu_system,
        "disk_read_bytes": sum(d.read_bytes for d in current.disks),
        "disk_write_bytes": sum(d.write_bytes for d in current.disks),
        "disk_read_requests": sum(d.read_requests for d in current.disks),
        "disk_write_requests": sum(d.write_requests for d in current.disks),
        "net_rx_bytes": sum(n.rx_bytes for n in current.nics),
        "net_tx_bytes": sum(n.tx_bytes for n in current.nics),
    }
    if previous is not None and seconds > 0:
        vcpus = max(1, current.vcpus)
        values.update({
            # oVirt's cpu.current.total: share of the VM's vCPUs, so 100 is all of them busy.
            "cpu": min(100.0, 100 * max(0.0, current.cpu_time - previous.cpu_time)
                       / seconds / vcpus),
            "disk_read": _rate(counters["disk_read_bytes"],
                               sum(d.read_bytes for d in previous.disks), seconds),
            "disk_write": _rate(counters["disk_write_bytes"],
                                sum(d.write_bytes for d in previous.disks), seconds),
            "net_rx": _rate(counters["net_rx_bytes"],
                            sum(n.rx_bytes for n in previous.nics), seconds),
            "net_tx": _rate(counters["net_tx_bytes"],
                            sum(n.tx_bytes for n in previous.nics), seconds),
        })
        if current.nics:
            # oVirt's network.current.total: the NICs' traffic against their speed, which
            # oVirt takes as 1 Gbit/s for a virtual NIC
            capacity = NIC_SPEED_BYTES * len(current.nics)
            values["net_total"] = min(100.0, 100 * (values["net_rx"] + values["net_tx"])
                                      / capacity)
    return Measurement(ObjectKind.VM, vm_id, name, now, values, counters)


def storage_measurement(domain_id: str, name: str, *, now: float, capacity: int, used: int,
                        free: int, committed: int, ram: RamUse | None = None) -> Measurement:
    values: dict[str, float] = {"capacity": capacity, "used": used, "free": free,
                                "committed": committed,
                                "overcommit": 100 * committed / capacity if capacity else 0.0}
    if ram is not None:  # a domain in memory: the RAM it holds, and what zram saves
        values["ram_used"] = ram.ram
        values["compression_ratio"] = ram.compression_ratio
    return Measurement(ObjectKind.STORAGE_DOMAIN, domain_id, name, now,
                       {k: float(v) for k, v in values.items()})


def _rate(current: float, previous: float, seconds: float) -> float:
    # A counter that went back was reset (the guest rebooted a NIC, QEMU restarted): no rate.
    return max(0.0, current - previous) / seconds
