"""Kernel same-page merging on this host: how fast ``ksmd`` scans and whether it runs.

One KSM per kernel: lab hosts share the machine's, so the engine tunes it through the local
host only. QEMU marks guest memory mergeable by itself; KSM merges nothing until ``run`` is
1. The files live under ``<sys>/kernel/mm/ksm`` (the host probe's root, so tests can point
it at a fixture tree).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.errors import HostAgentError

KSM_DIR = "kernel/mm/ksm"


@dataclass(frozen=True)
class KsmTuning:
    run: bool
    pages_to_scan: int  # pages ksmd scans per wake-up
    sleep_millisecs: int  # between wake-ups


def read_tuning(sys_root: Path) -> KsmTuning | None:
    """KSM's settings now, or None where the kernel has no KSM."""
    folder = sys_root / KSM_DIR
    try:
        return KsmTuning(run=_value(folder, "run") == 1,
                         pages_to_scan=_value(folder, "pages_to_scan"),
                         sleep_millisecs=_value(folder, "sleep_millisecs"))
    except (OSError, ValueError):
        return None


def apply_tuning(sys_root: Path, tuning: KsmTuning) -> None:
    """Write what differs from the kernel's current settings; the pace before ``run``, so
    ksmd never starts at the old pace."""
    folder = sys_root / KSM_DIR
    current = read_tuning(sys_root)
    if current is None:
        raise HostAgentError("this host's kernel has no KSM (/sys/kernel/mm/ksm)")
    for name, old, new in (
        ("pages_to_scan", current.pages_to_scan, tuning.pages_to_scan),
        ("sleep_millisecs", current.sleep_millisecs, tuning.sleep_millisecs),
        ("run", int(current.run), int(tuning.run)),
    ):
        if old != new:
            try:
                (folder / name).write_text(f"{new}\n")
            except OSError as exc:
                raise HostAgentError(f"could not set KSM's {name} to {new}: "
                                     f"{exc.strerror}") from None


def _value(folder: Path, name: str) -> int:
    return int((folder / name).read_text().split()[0])
