"""Density: the same demo guests on the same machine, VirtStick against plain libvirt.

Both labs (``_density_labs``) run the demo guest (one vCPU, TCG) on this machine's libvirtd,
plain libvirt first, with the machine's KSM off, then VirtStick, with KSM managed by its
engine. For each:

1. give back: one guest with 512 MiB fills 200 MiB of its RAM and frees it (``mem fill``,
   ``mem free``), then 200 MiB of its disk (``disk fill``, ``disk free``, a TRIM); what the
   host gets back within 10 s of each free, and what the lab costs after both;
2. density: guests with the Demo template's 256 MiB start one at a time, each until it
   says ready; after each, the lab's cost (distinct physical pages of its QEMUs, its files
   on its tmpfs, VirtStick's service) once it settles. The count is how many are up before
   the cost passes the lab's budget of ``BUDGET_MIB`` (its free memory under the floor of
   zero); the per-VM figure is the cost over ``REFERENCE_VMS`` guests.

``VIRTSTICK_BENCH_DENSITY_BUDGET_MIB`` changes the budget (and so the run's length).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from appliance.demoguest import build
from appliance.vdsm import ksm
from appliance.vdsm.ksm import KsmTuning
from tests import hostmemory
from tests.bench import Figure
from tests.bench._density_labs import Guest, Lab, PlainLab, StickLab

MiB = 1024 * 1024
BUDGET_MIB = int(os.environ.get("VIRTSTICK_BENCH_DENSITY_BUDGET_MIB", "1536"))
MAX_VMS = 40
REFERENCE_VMS = 5
FILL_MIB = 200
GIVE_BACK_S = 10.0
COMMAND_TIMEOUT = 600.0
TMPFS_MIB = 4096
SYS = Path("/sys")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class GiveBack:
    memory_back: float  # share of the filled RAM the host had back within GIVE_BACK_S
    memory_seconds: float  # until 90 % was back (GIVE_BACK_S: not within it)
    disk_back: float
    disk_seconds: float
    left: int  # bytes the lab costs more than before the fills


@dataclass(frozen=True)
class Density:
    per_vm: int  # cost over REFERENCE_VMS guests, per guest
    count: int  # guests up within the budget


def run() -> list[Figure]:
    demo = build(REPO / ".cache" / "demoguest").disk
    saved = ksm.read_tuning(SYS)
    results: dict[str, tuple[GiveBack, Density]] = {}
    try:
        if saved is not None:
            ksm.apply_tuning(SYS, KsmTuning(False, saved.pages_to_scan, saved.sleep_millisecs))
        results["plain"] = _measure(lambda: PlainLab(demo, TMPFS_MIB))
        results["stick"] = _measure(lambda: StickLab(demo, TMPFS_MIB))
    finally:
        if saved is not None:
            ksm.apply_tuning(SYS, saved)
    return _figures(results["stick"], results["plain"])


def _measure(make: Callable[[], Lab]) -> tuple[GiveBack, Density]:
    lab = make()
    try:
        return _give_back(lab), _density(lab)
    finally:
        lab.close()


def _settled(lab: Lab) -> int:
    return hostmemory.settled(lab.cost, timeout=30, step=3, tolerance=4 * MiB)


def _ask(guest: Guest, command: str, reply: str) -> None:
    guest.console.send(command)
    guest.console.wait_for(rf"^VIRTSTICK-{reply}", COMMAND_TIMEOUT)


def _freed(lab: Lab, guest: Guest, fill: str, free: str, reply: str) -> tuple[float, float]:
    """Fill, then free: the share of the fill back within GIVE_BACK_S, and how long 90 % took."""
    before = _settled(lab)
    _ask(guest, f"{fill} {FILL_MIB}", f"{reply}-FILLED={FILL_MIB}")
    peak = lab.cost()
    _ask(guest, free, f"{reply}-FREED")
    grown = max(peak - before, 1)
    value, seconds = hostmemory.wait_until(lab.cost, lambda c: peak - c >= 0.9 * grown,
                                           timeout=GIVE_BACK_S)
    if peak - value < 0.9 * grown:
        value = lab.cost()  # as it stands when the 10 s are up
    return min(max((peak - value) / grown, 0.0), 1.0), min(seconds, GIVE_BACK_S)


def _give_back(lab: Lab) -> GiveBack:
    guest = lab.start("fill", memory_mib=512)
    start = _settled(lab)
    memory_back, memory_s = _freed(lab, guest, "mem fill", "mem free", "MEM")
    disk_back, disk_s = _freed(lab, guest, "disk fill", "disk free", "DISK")
    left = _settled(lab) - start
    lab.stop(guest)
    return GiveBack(memory_back, memory_s, disk_back, disk_s, left)


def _density(lab: Lab) -> Density:
    per_vm, count = 0, 0
    for index in range(1, MAX_VMS + 1):
        lab.start(f"vm{index:02d}", memory_mib=256)
        cost = _settled(lab)
        print(f"    {type(lab).__name__}: {index} VMs up, {cost / MiB:.0f} MiB", flush=True)
        if index == REFERENCE_VMS:
            per_vm = cost // index
        if cost > BUDGET_MIB * MiB:
            break
        count = index
        time.sleep(1)
    return Density(per_vm=per_vm, count=count)


def _figures(stick: tuple[GiveBack, Density], plain: tuple[GiveBack, Density]) -> list[Figure]:
    (ours, dense), (theirs, base) = stick, plain
    return [
        Figure(f"host memory per running demo VM ({REFERENCE_VMS} VMs), VirtStick",
               dense.per_vm / MiB, "MiB", baseline=base.per_vm / MiB),
        Figure(f"demo VMs up within a {BUDGET_MIB} MiB lab budget, VirtStick", dense.count,
               "VMs", baseline=float(base.count), target=">= 2x"),
        Figure(f"host memory left after {FILL_MIB} MiB of RAM and of disk filled and freed, "
               "VirtStick", ours.left / MiB, "MiB", baseline=theirs.left / MiB),
        Figure("freed guest RAM back on the host within 10 s, VirtStick",
               100 * ours.memory_back, "%", baseline=100 * theirs.memory_back,
               target=">= 90 %"),
        Figure("freed guest RAM: seconds until 90 % was back, VirtStick", ours.memory_seconds,
               "s", target="<= 10 s"),
        Figure("freed guest disk back on the host within 10 s, VirtStick",
               100 * ours.disk_back, "%", baseline=100 * theirs.disk_back,
               target=">= 90 %"),
        Figure("freed guest disk: seconds until 90 % was back, VirtStick", ours.disk_seconds,
               "s", target="<= 10 s"),
        Figure("freed guest RAM back within 10 s, plain libvirt", 100 * theirs.memory_back,
               "%"),
        Figure("freed guest disk back within 10 s, plain libvirt", 100 * theirs.disk_back, "%"),
    ]
