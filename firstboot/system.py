"""The host's own identity: host name and time zone, written under ``etc_dir``.

Written as files (``hostname``, ``timezone``, the ``localtime`` link) rather than through
hostnamed/timedated, which need systemd; the live host name is set too unless the settings
say not to (tests, which must not rename the machine).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

ZONEINFO = Path("/usr/share/zoneinfo")


def apply_hostname(name: str, *, etc_dir: Path, live: bool) -> None:
    _replace(etc_dir / "hostname", name + "\n")
    if live:
        socket.sethostname(name)


def apply_timezone(name: str, *, etc_dir: Path) -> None:
    _replace(etc_dir / "timezone", name + "\n")
    link = etc_dir / "localtime"
    temporary = link.with_name(".localtime.new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(ZONEINFO / name)
    temporary.replace(link)


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.new")
    temporary.write_text(text)
    os.replace(temporary, path)
