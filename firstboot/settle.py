"""Waiting for block devices to be probed and labelled, with a deadline.

At first boot the wizard may start before udev has probed every disk, and a USB stick can
enumerate seconds later still (the kernel waits before it scans a new stick, and hubs are
slow). So the seed search first waits for udev's queue to drain (``udevadm settle``), then,
while the machine is young or devices keep appearing, watches udev's events for new block
and USB devices, looking again after each one and at least once a second. Every wait is
bounded: a machine with no seed reaches the interactive wizard a few seconds later, never
blocked.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyudev

# Block devices carry the labels; USB devices announce a stick before its disk shows up.
WATCHED_SUBSYSTEMS = ("block", "usb")


@dataclass(frozen=True)
class Patience:
    """How long to wait for devices (from the wizard's settings)."""

    settle_timeout_s: float = 30.0  # udevadm settle: the events already queued
    until_uptime_s: float = 20.0  # watch for new devices until the machine is this old
    quiet_s: float = 3.0  # after a device appeared, wait this long for the next one
    max_s: float = 30.0  # never longer than this in all
    uptime_path: Path = Path("/proc/uptime")


@dataclass(frozen=True)
class WaitResult:
    found: str | None  # what the look returned
    waited_s: float
    events: int  # block and USB devices that appeared or changed meanwhile


def wait_for(look: Callable[[], str | None], patience: Patience, *, expected: bool = False,
             clock: Callable[[], float] = time.monotonic,
             on_wait: Callable[[float], None] | None = None) -> WaitResult:
    """Call ``look`` until it finds something or the deadline passes.

    The deadline is the moment the machine is ``until_uptime_s`` old (now, on a machine up
    for longer), pushed back by ``quiet_s`` after each new device, and ``max_s`` from now
    when the caller ``expected`` a device (the kernel command line named it); never later
    than ``max_s`` from now. ``on_wait`` hears how long the wait may last, once, when the
    first look found nothing and there is time left.
    """
    started = clock()
    # What udev has already labelled is there to take (its link exists once udev is done
    # with the device): no settling, which early in a loaded boot waits for the whole
    # coldplug queue, half a minute under emulation.
    found = look()
    if found is not None:
        return WaitResult(found, clock() - started, 0)
    monitor = _monitor()  # before settling, so nothing that appears meanwhile is missed
    settle(patience.settle_timeout_s)
    latest = started + patience.max_s
    window = patience.max_s if expected else patience.until_uptime_s - uptime(patience)
    deadline = min(latest, started + max(0.0, window))
    events = 0
    announced = False
    while True:
        found = look()
        now = clock()
        if found is not None or now >= deadline:
            return WaitResult(found, now - started, events)
        if not announced and on_wait is not None:
            on_wait(deadline - now)
            announced = True
        if _next_event(monitor, timeout=min(1.0, deadline - now)):
            events += 1
            deadline = min(latest, max(deadline, clock() + patience.quiet_s))


def settle(timeout_s: float) -> None:
    """Wait until udev has handled the events already queued (no udevd: nothing to wait for)."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        subprocess.run(["udevadm", "settle", f"--timeout={max(1, int(timeout_s))}"],
                       capture_output=True, check=False, timeout=timeout_s + 5)


def uptime(patience: Patience) -> float:
    try:
        return float(patience.uptime_path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("inf")  # unknown: behave as on a machine up for long


def _monitor() -> pyudev.Monitor | None:
    """udev's processed events for block and USB devices (None where netlink is refused)."""
    try:
        monitor = pyudev.Monitor.from_netlink(pyudev.Context())
        for subsystem in WATCHED_SUBSYSTEMS:
            monitor.filter_by(subsystem)
        monitor.start()
    except (OSError, ValueError):
        return None
    return monitor


def _next_event(monitor: pyudev.Monitor | None, *, timeout: float) -> bool:
    """Whether a device was added or changed within ``timeout`` seconds."""
    if monitor is None:
        time.sleep(max(0.0, timeout))
        return False
    try:
        device = monitor.poll(timeout=max(0.0, timeout))
    except OSError:
        return False
    return device is not None and device.action in ("add", "change", "bind")
