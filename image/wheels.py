"""The appliance as wheels built on the host, installed offline into the image's venv.

libvirt-python is compiled here against the host's libvirt; the host and the Debian image
share the release (bookworm: Python 3.11, libvirt 9.0), so the image needs no compiler. The
wheel house persists in the cache: a rebuild only remakes the project's own wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

from image.steps import StepLog

PROJECT_WHEEL_GLOB = "virtstick-*.whl"


def build_wheelhouse(log: StepLog, *, project_dir: Path, wheelhouse: Path) -> list[str]:
    """Wheels of the project and its dependencies in ``wheelhouse``; returns their names."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    for stale in wheelhouse.glob(PROJECT_WHEEL_GLOB):
        stale.unlink()  # the source has changed since; its version number has not
    log.run(
        [
            sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check",
            "--wheel-dir", wheelhouse, "--find-links", wheelhouse, project_dir,
        ]
    )  # fmt: skip
    return sorted(path.name for path in wheelhouse.glob("*.whl"))
