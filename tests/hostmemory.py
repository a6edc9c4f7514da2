"""What running guests cost the host, for tests and benchmarks: the memory of their QEMU
processes and the bytes their disk files hold.

A QEMU's cost is its proportional set size (``Pss`` in ``smaps_rollup``): pages only it maps
count whole, pages it shares (libraries, pages merged by KSM) count by the share it has.
For a set of QEMUs together, ``resident_bytes`` counts the physical pages any of them maps,
each once (from ``/proc/PID/pagemap``, as root): pages shared inside the set count once,
pages shared with anything else on this shared machine (another user's VMs merged by KSM,
libraries) count whole, so other people's processes can never make the set look cheaper.
A file's cost is its allocated blocks: holes (sparse, TRIMmed) cost nothing.
"""

from __future__ import annotations

import array
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


PAGE = 4096
_PRESENT = 1 << 63
_PFN = (1 << 55) - 1


def resident_bytes(pids: Iterable[int]) -> int:
    """Bytes of the distinct physical pages the processes map (gone processes count 0)."""
    frames: set[int] = set()
    for pid in pids:
        try:
            frames |= _frames(pid)
        except OSError:
            continue
    return len(frames) * PAGE


def _frames(pid: int) -> set[int]:
    found: set[int] = set()
    ranges = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        start, end = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
        ranges.append((start, end))
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for start, end in ranges:
            pagemap.seek(start // PAGE * 8)
            entries = array.array("Q")
            entries.frombytes(pagemap.read((end - start) // PAGE * 8))
            found.update(e & _PFN for e in entries if e & _PRESENT)
    found.discard(0)  # a PFN of 0: present but hidden (not root)
    return found


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
