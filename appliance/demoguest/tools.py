"""The host programs the demo guest build runs, checked up front with an install hint."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from appliance.demoguest.errors import DemoGuestBuildFailed, HostToolMissing

# program -> Debian package that ships it (the hint a user gets when it is missing)
HOST_TOOLS: dict[str, str] = {
    "apt-get": "apt",
    "apt-cache": "apt",
    "dpkg": "dpkg",
    "mkfs.fat": "dosfstools",
    "mcopy": "mtools",
    "mmd": "mtools",
    "mattrib": "mtools",
    "qemu-img": "qemu-utils",
}


def require_tools(tools: Mapping[str, str] = HOST_TOOLS) -> None:
    """Raise HostToolMissing for the first program (-> package) not on PATH or in sbin."""
    for tool, package in tools.items():
        if find_tool(tool) is None:
            raise HostToolMissing(tool=tool, package=package)


def find_tool(tool: str) -> str | None:
    # root's PATH normally has the sbin dirs, but a venv or sudo may drop them (mkfs.fat).
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")


def run(argv: Sequence[str | Path], *, cwd: Path | None = None) -> str:
    """Run a host program, return its stdout; a failure becomes DemoGuestBuildFailed."""
    args = [str(a) for a in argv]
    program = find_tool(args[0])
    if program is None:
        raise HostToolMissing(tool=args[0], package=HOST_TOOLS.get(args[0], args[0]))
    result = subprocess.run(
        [program, *args[1:]], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise DemoGuestBuildFailed(
            f"{' '.join(args)} failed with exit status {result.returncode}:"
            f" {result.stderr.strip()[-2000:]}"
        )
    return result.stdout
