"""Kernel same-page merging, managed as ksmtuned does: on when memory gets tight, its pace
raised while free memory is short and lowered while it is not, off when memory is plenty.

VMs booted from one template hold many identical pages (the same kernel, the same files);
KSM keeps one copy of each. It costs CPU to find them, so it runs only when memory is tight:
free memory under ``ksm_threshold_percent`` of the total, or the VMs on the machine promised
more than the rest. One KSM serves the whole machine (lab hosts share the kernel), so the
engine tunes it through the local host and counts the VMs of every host on this machine.
The engine stops only a KSM it started: someone else's merging is not its to end.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from appliance.config import KsmMode
from appliance.engine import validation
from appliance.engine.context import EngineContext
from appliance.engine.enums import HostKind
from appliance.engine.event_codes import EventCode
from appliance.engine.monitoring import Monitor
from appliance.errors import VirtStickError
from appliance.vdsm.ksm import KsmTuning

log = logging.getLogger(__name__)

GiB = 1024**3


@dataclass(frozen=True)
class MachineMemory:
    total: int
    available: int  # what the kernel could give without swapping (MemAvailable)
    committed: int  # memory promised to the VMs running on this machine


@dataclass(frozen=True)
class KsmPace:
    """ksmtuned's numbers: pages per wake-up move by ``boost``/``decay`` each round between
    ``minimum`` and ``maximum``; the sleep shrinks as the machine grows (10 ms for 16 GiB)."""

    threshold_percent: int = 20
    boost: int = 300
    decay: int = -50
    minimum: int = 64
    maximum: int = 1250
    sleep_baseline_ms: int = 10

    def threshold(self, total: int) -> int:
        return max(total * self.threshold_percent // 100, 2 * 1024 * 1024)

    def sleep_ms(self, total: int) -> int:
        return max(self.sleep_baseline_ms, self.sleep_baseline_ms * 16 * GiB // max(total, 1))

    def tight(self, memory: MachineMemory) -> bool:
        threshold = self.threshold(memory.total)
        return (memory.committed + threshold > memory.total
                or memory.available < threshold)


def next_tuning(mode: KsmMode, memory: MachineMemory, current: KsmTuning,
                pace: KsmPace) -> KsmTuning | None:
    """What KSM should do next; None: leave it alone."""
    if mode is KsmMode.OFF:
        return None
    if mode is KsmMode.AUTO and not pace.tight(memory):
        return KsmTuning(run=False, pages_to_scan=current.pages_to_scan,
                         sleep_millisecs=current.sleep_millisecs)
    short = mode is KsmMode.ON or memory.available < pace.threshold(memory.total)
    pages = current.pages_to_scan + (pace.boost if short else pace.decay)
    return KsmTuning(run=True, pages_to_scan=min(max(pages, pace.minimum), pace.maximum),
                     sleep_millisecs=pace.sleep_ms(memory.total))


class KsmManager:
    def __init__(self, ctx: EngineContext, monitor: Monitor) -> None:
        self.ctx = ctx
        self.monitor = monitor
        self.mode = ctx.config.memory.ksm
        self.pace = KsmPace(threshold_percent=ctx.config.memory.ksm_threshold_percent)
        self.started = False  # this engine switched KSM on (and may switch it off)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.mode is KsmMode.OFF:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="ksm", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def adjust(self) -> KsmTuning | None:
        """One round: what KSM was set to, or None when nothing changed."""
        host = next((h for h in self.ctx.store.hosts.all() if h.kind is HostKind.LOCAL), None)
        agent = self.ctx.hosts.agents.get(host.id) if host is not None else None
        measured = self.monitor.latest(host.id) if host is not None else None
        if host is None or agent is None or measured is None:
            return None
        current = agent.ksm_tuning()
        if current is None:
            return None
        total = int(measured.values["mem_total"])
        memory = MachineMemory(total=total, available=total - int(measured.values["mem_used"]),
                               committed=self._committed())
        wanted = next_tuning(self.mode, memory, current, self.pace)
        if wanted is None or wanted == current or (not wanted.run and not self.started):
            return None
        agent.tune_ksm(wanted)
        if wanted.run != current.run:
            self.started = wanted.run
            self._record(host.id, host.name, memory, wanted.run)
        return wanted

    def _committed(self) -> int:
        here = {h.id for h in self.ctx.store.hosts.all()
                if h.kind in (HostKind.LOCAL, HostKind.LAB)}
        return sum(vm.memory for vm in self.ctx.store.vms.all()
                   if vm.host_id in here and vm.status.is_running)

    def _record(self, host_id: str, name: str, memory: MachineMemory, running: bool) -> None:
        free = validation.human_size(memory.available)
        total = validation.human_size(memory.total)
        promised = validation.human_size(memory.committed)
        if running:
            text = (f"Host {name} merges identical memory pages (KSM): {free} of {total} "
                    f"free, {promised} promised to VMs.")
        else:
            text = f"Host {name} stopped merging memory pages (KSM): {free} of {total} free."
        self.ctx.events.record(EventCode.KSM_STARTED if running else EventCode.KSM_STOPPED, text,
                               host_id=host_id)

    def _loop(self) -> None:
        interval = self.ctx.config.memory.ksm_interval_seconds
        while not self._stop.wait(interval):
            try:
                self.adjust()
            except VirtStickError as exc:  # a host that does not answer: next round
                log.warning("KSM not adjusted: %s", exc.detail)
            except Exception:  # a manager must not die
                log.exception("KSM adjustment failed")
