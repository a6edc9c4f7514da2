"""What running guests cost the host, for tests and benchmarks: the memory of their QEMU
processes and the bytes their disk files hold.

A QEMU's cost is its proportional set size (``Pss`` in ``smaps_rollup``): pages only it maps
count whole, pages it shares (libraries, pages merged by KSM) count by the share it has, so
the sum over many VMs is what they take from the host together, whatever else runs on this
shared machine. A file's cost is its allocated blocks: holes (sparse, TRIMmed) cost nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

MiB = 1024 * 1024
QEMU_PID_DIR = Path("/run/libvirt/qemu")


def qemu_pid(domain_name: str, *, pid_dir: Path = QEMU_PID_DIR) -> int:
    """The QEMU process of a running domain of the machine's libvirtd."""
    return int((pid_dir / f"{domain_name}.pid").read_text().strip())


def pss_bytes(pid: int) -> int:
    text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    match = re.search(r"^Pss:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else 0


def qemu_bytes(domain_names: Iterable[str]) -> int:
    """What the domains' QEMUs hold of the host's memory together (domains gone count 0)."""
    total = 0
    for name in domain_names:
        try:
            total += pss_bytes(qemu_pid(name))
        except (OSError, ValueError):
            continue
    return total


def allocated_bytes(paths: Iterable[Path]) -> int:
    """Bytes the files occupy (on tmpfs: RAM), holes excluded."""
    total = 0
    for path in paths:
        try:
            total += path.stat().st_blocks * 512
        except FileNotFoundError:
            continue
    return total


def settled(read: Callable[[], int], *, timeout: float, step: float = 1.0,
            tolerance: int = 2 * MiB) -> int:
    """The value once it stops changing (two reads ``step`` apart within ``tolerance``), or
    the last one read when ``timeout`` passes: free page reporting and KSM take seconds."""
    deadline = time.monotonic() + timeout
    last = read()
    while time.monotonic() < deadline:
        time.sleep(step)
        now = read()
        if abs(now - last) <= tolerance:
            return now
        last = now
    return last


def wait_until(read: Callable[[], int], condition: Callable[[int], bool], *,
               timeout: float, step: float = 0.5) -> tuple[int, float]:
    """The first value meeting ``condition`` and the seconds it took; the last value and
    the timeout when none did."""
    started = time.monotonic()
    value = read()
    while not condition(value) and time.monotonic() - started < timeout:
        time.sleep(step)
        value = read()
    return value, time.monotonic() - started
