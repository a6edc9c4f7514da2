"""Fixtures for the demo guest tests: the one cache location, libvirt, running guests."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import libvirt
import pytest

from appliance.demoguest import DemoGuest, build
from appliance.demoguest.console import GuestConsole
from appliance.demoguest.domain import GuestFiles, create_overlay, domain_xml

REPO_ROOT = Path(__file__).resolve().parents[2]
GONE = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID)


@pytest.fixture(scope="session")
def demoguest_cache() -> Path:
    """The demo guest cache all tests share (gitignored, survives between runs)."""
    return REPO_ROOT / ".cache" / "demoguest"


@pytest.fixture(scope="session")
def demoguest(demoguest_cache: Path) -> DemoGuest:
    return build(demoguest_cache)


@pytest.fixture(scope="session")
def libvirt_conn() -> Iterator[libvirt.virConnect]:
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors arrive as exceptions
    conn = libvirt.open("qemu:///system")
    yield conn
    conn.close()


@pytest.fixture
def guest_dir() -> Iterator[Path]:
    """A directory QEMU's user can reach: tmp_path is 0700, QEMU opens the overlay itself."""
    directory = Path(tempfile.mkdtemp(prefix="virtstick-demoguest-"))
    directory.chmod(0o711)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@dataclass(frozen=True)
class RunningGuest:
    domain: libvirt.virDomain
    console: GuestConsole
    files: GuestFiles


class StartGuest(Protocol):
    def __call__(self, *, give_back: bool = False, memory_mib: int = 256) -> RunningGuest: ...


@pytest.fixture
def start_guest(
    demoguest: DemoGuest, libvirt_conn: libvirt.virConnect, guest_dir: Path
) -> Iterator[StartGuest]:
    """Start transient demo guests on overlays; every one is destroyed at teardown."""
    started: list[RunningGuest] = []

    def start(*, give_back: bool = False, memory_mib: int = 256) -> RunningGuest:
        directory = guest_dir / f"g{len(started)}"
        directory.mkdir(mode=0o711)
        files = GuestFiles.in_directory(directory)
        create_overlay(base=demoguest.disk, overlay=files.overlay)
        name = f"test-demoguest-{secrets.token_hex(4)}"
        xml = domain_xml(name=name, files=files, give_back=give_back, memory_mib=memory_mib)
        domain = libvirt_conn.createXML(xml, 0)
        guest = RunningGuest(domain, GuestConsole(files.serial_socket, files.serial_log), files)
        started.append(guest)
        return guest

    yield start
    for guest in started:
        guest.console.close()
        _destroy(guest.domain)


def _destroy(domain: libvirt.virDomain) -> None:
    """Destroy a test domain; on a loaded machine destroy can fail once (QEMU slow to die)."""
    for attempt in range(5):
        try:
            domain.destroy()
            return
        except libvirt.libvirtError as error:
            if error.get_error_code() in GONE:
                return  # already gone or off (shut down by the test)
            if attempt == 4:
                raise
            time.sleep(1)
