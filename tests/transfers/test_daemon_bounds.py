"""The image data port under attack, on 127.0.0.1 as an attacker elsewhere would try it:
ovirt-imageio reads a PATCH body before it checks the ticket and starts a thread for every
connection with no bound of its own, so the port's front bounds both (connections per
address and in total, a request's head within seconds, small bodies but for uploads) while
honest transfers go on."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import secrets
import select
import signal
import socket
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api import siege
from tests.api.conftest import Appliance
from tests.transfers.conftest import (
    Clients,
    finalize,
    make_image,
    new_disk,
    request,
    start,
    unique,
)

MiB = 1024 * 1024
GiB = 1024 * MiB


@pytest.fixture
def download(admin: sdk.Connection) -> Iterator[types.ImageTransfer]:
    """An open download transfer: the port serves, and an honest client uses it."""
    disk = new_disk(admin, unique("bounds"))
    transfer = start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    try:
        yield transfer
    finally:
        finalize(admin, transfer.id)


def _port(transfer: types.ImageTransfer) -> int:
    return int(urllib.parse.urlparse(transfer.transfer_url).port or 0)


def _tls(port: int, source: str, *, timeout: float = 5.0) -> ssl.SSLSocket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0))
    return ssl._create_unverified_context().wrap_socket(sock)


def _resident(clients: Clients) -> int:
    """Resident bytes of the processes serving the port (the daemon, and its front)."""
    total = 0
    for name in ("daemon.pid", "front.pid"):
        path = clients.appliance.state_dir / "imageio" / name
        if not path.exists():
            continue
        status = Path(f"/proc/{int(path.read_text())}/status").read_text()
        total += int(next(x for x in status.splitlines() if x.startswith("VmRSS")).split()[1])
    return total * 1024


def _answer(sock: socket.socket) -> bytes:
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def _options_in_time(clients: Clients, transfer: types.ImageTransfer) -> float:
    started = time.monotonic()
    assert request(clients, transfer.transfer_url, "OPTIONS")[0] == 200
    return time.monotonic() - started


def test_an_unauthenticated_patch_body_is_refused_on_its_head(
        clients: Clients, download: types.ImageTransfer) -> None:
    """A declared gigabyte to a ticket nobody has: the answer comes before the body is
    taken, and neither the daemon nor its front holds what was sent."""
    before = _resident(clients)
    sock = _tls(_port(download), siege.attacker(40), timeout=10)
    sent, answer = 0, b""
    try:
        sock.sendall(f"PATCH /images/{secrets.token_hex(16)} HTTP/1.1\r\nHost: x\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {GiB}\r\n\r\n"
                     .encode())
        chunk = b"{" * MiB
        # As browsers and curl do: the body goes on until an answer comes.
        with contextlib.suppress(OSError):
            while sent < 64 * MiB and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += len(chunk)
        answer = _answer(sock)
        held = _resident(clients) - before
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), (sent, answer[:200])
    assert sent < 32 * MiB, sent
    assert held < 16 * MiB, held
    assert _options_in_time(clients, download) < siege.HEALTH_DEADLINE


def test_connections_from_one_address_are_bounded(
        clients: Clients, download: types.ImageTransfer) -> None:
    attack = siege.ConnectionHolder(_data_port(clients, download), sources=[siege.attacker(42)],
                                    per_source=100, first=b"", trickle=b"")
    with siege.under(attack, warmup=3):
        slowest = max(_options_in_time(clients, download) for _ in range(5))
    assert attack.most_open <= 16, attack.most_open
    assert slowest < siege.HEALTH_DEADLINE


def test_more_connections_than_the_port_holds_make_room_for_a_newcomer(
        clients: Clients, download: types.ImageTransfer) -> None:
    """Half-sent heads from many addresses, each within its own limit: the longest waiting
    make room, and an honest client gets in at once."""
    sources = [siege.attacker(50 + n) for n in range(10)]
    attack = siege.ConnectionHolder(_data_port(clients, download), sources=sources, per_source=16,
                                    https=True, first=b"OPTIONS /images/x HTTP/1.1\r\n")
    with siege.under(attack, threads=2, warmup=4):
        slowest = max(_options_in_time(clients, download) for _ in range(5))
    assert attack.most_open <= 64, attack.most_open
    assert slowest < siege.HEALTH_DEADLINE


def test_a_head_that_never_ends_is_closed(clients: Clients,
                                          download: types.ImageTransfer) -> None:
    sock = _tls(_port(download), siege.attacker(43), timeout=30)
    started = time.monotonic()
    try:
        sock.sendall(b"OPTIONS /images/x HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(OSError):
            while sock.recv(4096):
                pass
    finally:
        sock.close()
    assert time.monotonic() - started < 15  # the daemon alone waits 60 s


def test_data_moves_over_tls_as_from_another_machine(clients: Clients,
                                                     admin: sdk.Connection) -> None:
    """A client that does not switch to the unix socket (one elsewhere cannot): an upload
    and a download on kept-alive connections, requests one after another."""
    image = make_image(clients.work / f"{unique('remote')}.raw", fmt="raw", size=8 * MiB,
                       writes=((0x5a, 1, 2),))
    data = image.read_bytes()
    disk = new_disk(admin, unique("remote"), size=8 * MiB, fmt=types.DiskFormat.RAW)
    upload = start(admin, disk.id, types.ImageTransferDirection.UPLOAD)
    with _https(clients, upload.transfer_url) as conn:
        path = urllib.parse.urlparse(upload.transfer_url).path
        assert _call(conn, "OPTIONS", path)[0] == 200
        for offset in range(0, len(data), 3 * MiB):
            part = data[offset:offset + 3 * MiB]
            status, _ = _call(conn, "PUT", path, part, {
                "Content-Range": f"bytes {offset}-{offset + len(part) - 1}/*"})
            assert status == 200
        assert _call(conn, "PATCH", path, b'{"op": "flush"}',
                     {"Content-Type": "application/json"})[0] == 200
    assert finalize(admin, upload.id).phase == \
        types.ImageTransferPhase.FINISHED_SUCCESS
    download = start(admin, disk.id, types.ImageTransferDirection.DOWNLOAD)
    try:
        with _https(clients, download.transfer_url) as conn:
            path = urllib.parse.urlparse(download.transfer_url).path
            first = _call(conn, "GET", path, headers={"Range": f"bytes=0-{4 * MiB - 1}"})
            rest = _call(conn, "GET", path, headers={"Range": f"bytes={4 * MiB}-"})
        assert first[0] == rest[0] == 206
        assert first[1] + rest[1] == data
    finally:
        finalize(admin, download.id)


@contextlib.contextmanager
def _https(clients: Clients, url: str) -> Iterator[http.client.HTTPSConnection]:
    parsed = urllib.parse.urlparse(url)
    context = ssl.create_default_context(cafile=str(clients.cafile))
    conn = http.client.HTTPSConnection(parsed.netloc, context=context, timeout=30,
                                       source_address=(siege.attacker(44), 0))
    try:
        yield conn
    finally:
        conn.close()


def _call(conn: http.client.HTTPSConnection, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, response.read()


def _data_port(clients: Clients, transfer: types.ImageTransfer) -> Appliance:
    """The data port in the form the siege helpers take (they connect to its urls)."""
    port = _port(transfer)
    return dataclasses.replace(clients.appliance, url=f"http://127.0.0.1:{port}",
                               https_url=f"https://127.0.0.1:{port}")


def test_a_front_that_dies_is_started_again(clients: Clients,
                                             download: types.ImageTransfer) -> None:
    """Clients wait in the port's backlog (the service holds the socket) meanwhile."""
    pid_file = clients.appliance.state_dir / "imageio" / "front.pid"
    killed = int(pid_file.read_text())
    os.kill(killed, signal.SIGKILL)
    status, _ = request(clients, download.transfer_url, "OPTIONS")
    assert status == 200
    assert int(pid_file.read_text()) != killed
