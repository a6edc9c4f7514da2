"""The demo guest to preload: built on the host by ``appliance.demoguest`` (cached there)."""

from __future__ import annotations

import importlib
from pathlib import Path

from image.steps import StepLog


def build_demo_disk(log: StepLog, *, cache_dir: Path) -> Path | None:
    """The demo guest's qcow2, or None (said in the log) while the project has no demo guest."""
    try:
        demoguest = importlib.import_module("appliance.demoguest")
    except ImportError:
        log.note("appliance.demoguest is not in this tree yet: the image has no demo template")
        return None
    guest = demoguest.build(cache_dir)
    disk = Path(guest.disk)
    log.note(f"demo guest disk: {disk} ({disk.stat().st_size} bytes)")
    return disk
