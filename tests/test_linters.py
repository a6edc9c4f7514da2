"""The linters run as tests, so CI keeps the code typed and tidy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "ruff"), "check", "appliance", "firstboot", "webui", "image", "tests"],
        [str(BIN / "mypy")],
    ],
    ids=["ruff", "mypy"],
)
def test_linter(command: list[str]) -> None:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
