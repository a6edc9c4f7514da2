"""The service's start-up in timed phases, logged as they end: where the first minute goes.

Each line says how long the phase took and how long the process has been running, counted
from the kernel's record of its start, so interpreter start-up and imports show too::

    startup: engine: local host took 0.84 s (6.10 s since the process started)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger("virtstick.startup")


def process_age(proc_self: Path = Path("/proc/self")) -> float:
    """Seconds since this process started (0.0 where /proc cannot say)."""
    try:
        start_ticks = int((proc_self / "stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)


class StartupClock:
    def __init__(self) -> None:
        self.started = time.monotonic() - process_age()
        self.phases: list[tuple[str, float]] = []

    def mark(self, name: str) -> None:
        """A phase that ended now and began when the process did (start-up and imports)."""
        self._record(name, time.monotonic() - self.started)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self._record(name, time.monotonic() - began)

    def since_start(self) -> float:
        return time.monotonic() - self.started

    def _record(self, name: str, seconds: float) -> None:
        self.phases.append((name, seconds))
        log.info("startup: %s took %.2f s (%.2f s since the process started)", name, seconds,
                 self.since_start())

