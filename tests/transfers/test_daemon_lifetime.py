"""The image daemon lives and dies with the service: a service killed outright (SIGKILL, as
an OOM kill or a crash would) leaves no ovirt-imageio holding the data port and volumes."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import time
from pathlib import Path

from tests import sandbox
from tests.api.conftest import start_appliance, stop_appliance


def daemon_pids(state_dir: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"ovirt-imageio") for part in command) and \
                str(state_dir).encode() in b" ".join(command):
            found.append(int(entry.name))
    return found


def test_a_killed_service_takes_its_image_daemon_along() -> None:
    base = sandbox.state_dir("vs-imageio-life-")
    prefix = f"vsil{secrets.token_hex(3)}-"
    process, _running = start_appliance(base, prefix=prefix)
    try:
        deadline = time.monotonic() + 30
        while not daemon_pids(base):
            assert time.monotonic() < deadline, "the service started no image daemon"
            time.sleep(0.2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        deadline = time.monotonic() + 15
        while daemon_pids(base):
            assert time.monotonic() < deadline, "the image daemon outlived its service"
            time.sleep(0.2)
    finally:
        for pid in daemon_pids(base):
            os.kill(pid, signal.SIGKILL)
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)
