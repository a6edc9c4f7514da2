"""Denial of service against a real ``virtstick serve``: each attack runs in a bounded loop on
127.0.0.1 while /health must answer within a second and an honest client must still log in.

The appliance is this module's own, so attacks leave the other API tests' service alone."""

from __future__ import annotations

import dataclasses
import secrets
import select
import shutil
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests import sandbox
from tests.api import siege
from tests.api.conftest import (
    ADMIN_PASSWORD,
    Appliance,
    free_port,
    start_appliance,
    stop_appliance,
)

API = "/ovirt-engine/api"
CONSOLE_PORT = free_port()
STALL_SECONDS = 3.0  # a client taking none of its answer this long is dropped


@pytest.fixture(scope="module")
def guarded() -> Iterator[Appliance]:
    base = sandbox.state_dir("vs-dos-")
    prefix = f"vsdos{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix, auth={"token_idle_minutes": 30.0},
                                       http={"console_listen": f"127.0.0.1:{CONSOLE_PORT}",
                                             "response_stall_seconds": STALL_SECONDS})
    try:
        yield running
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)


def assert_served(appliance: Appliance, watch: siege.Watch) -> None:
    assert not watch.failures, watch.failures[:5]
    assert watch.slowest < siege.HEALTH_DEADLINE, watch.latencies
    assert siege.honest_login(appliance) == 200


def test_worst_search_keeps_the_service_answering(guarded: Appliance) -> None:
    token = guarded.token()
    name = "a" * 64
    reply = guarded.request("POST", f"{API}/vms", f"<vm><name>{name}</name><template><name>"
                            "Blank</name></template><memory>67108864</memory></vm>",
                            token=token)
    assert reply.status == 201, reply.text
    worst = urllib.parse.quote("name=" + "*a" * 19 + "*b")
    answers: list[int] = []

    def search(stop: threading.Event) -> None:
        while not stop.is_set():
            answers.append(guarded.request("GET", f"{API}/vms?search={worst}",
                                           token=token).status)

    with siege.under(search, threads=2, warmup=0.5):
        watch = siege.probe(guarded, seconds=3)
    assert_served(guarded, watch)
    assert answers and set(answers) == {200}
    reply = guarded.request("GET", f"{API}/vms?search=" +
                            urllib.parse.quote("name=" + "*a" * 30), token=token)
    assert reply.status == 400 and "wildcards (*); the limit" in reply.text


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_half_sent_requests_from_one_address(guarded: Appliance, https: bool) -> None:
    """120 requests whose head never ends, kept open by a header line each second."""
    attack = siege.ConnectionHolder(guarded, sources=[siege.attacker(0)], per_source=120,
                                    https=https)
    with siege.under(attack, warmup=2):
        watch = siege.probe(guarded, seconds=4, https=https)
    assert_served(guarded, watch)


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_idle_connections_from_one_address(guarded: Appliance, https: bool) -> None:
    """120 connections that send nothing (over HTTPS: not even a TLS handshake)."""
    attack = siege.ConnectionHolder(guarded, sources=[siege.attacker(1)], per_source=120,
                                    https=https, handshake=False, first=b"", trickle=b"")
    with siege.under(attack, warmup=2):
        watch = siege.probe(guarded, seconds=4, https=https)
    assert_served(guarded, watch)
    assert attack.most_open <= 32  # the address's limit


def test_half_sent_requests_from_many_addresses(guarded: Appliance) -> None:
    """More connections than the service holds, each address within its own limit: the
    longest-waiting heads make room for newcomers."""
    sources = [siege.attacker(10 + n) for n in range(15)]
    attack = siege.ConnectionHolder(guarded, sources=sources, per_source=30)
    with siege.under(attack, threads=2, warmup=3):
        watch = siege.probe(guarded, seconds=4)
    assert_served(guarded, watch)


def test_idle_connections_to_the_console_proxy(guarded: Appliance) -> None:
    console = dataclasses.replace(guarded, url=f"http://127.0.0.1:{CONSOLE_PORT}")
    attack = siege.ConnectionHolder(console, sources=[siege.attacker(2)], per_source=100,
                                    first=b"GET /websockify/x HTTP/1.1\r\n")
    with siege.under(attack, warmup=2):
        for _ in range(5):
            # Without a portal session the proxy refuses, and says so at once.
            with pytest.raises(InvalidStatus) as refused:
                connect(f"ws://127.0.0.1:{CONSOLE_PORT}/websockify/x", open_timeout=1)
            assert refused.value.response.status_code == 401
        watch = siege.probe(guarded, seconds=2)
    assert_served(guarded, watch)
    assert attack.most_open <= 16  # the proxy's limit per address


GIB = 1024**3
MIB = 1024**2


@pytest.mark.parametrize(("path", "kind", "status", "words"), [
    ("/login", "application/x-www-form-urlencoded", 413, "the limit for a login form is"),
    ("/ovirt-engine/sso/oauth/token", "application/x-www-form-urlencoded", 413,
     '"error_code": "payload-too-large"'),
    (f"{API}/vms", "application/xml", 413, "<fault><reason>Request Entity Too Large"),
    (f"{API}/storagedomains/any/isoimages?name=x.iso", "application/octet-stream", 413,
     "larger images go through an image transfer"),
    ("/admin/isos/x.iso", "application/octet-stream", 413, "the limit for a form is"),
])
def test_large_bodies_are_refused_before_they_are_read(guarded: Appliance, path: str,
                                                       kind: str, status: int,
                                                       words: str) -> None:
    """The answer comes on the head alone: the gigabyte is never sent, let alone held."""
    method = "PUT" if path.startswith("/admin/") else "POST"
    head = (f"{method} {path} HTTP/1.1\nHost: 127.0.0.1\nContent-Type: {kind}\n"
            f"Content-Length: {GIB}\n")
    answer = siege.send_head(guarded, head, source=siege.attacker(3), body=b"x" * 1000)
    assert answer[0] == status, answer
    assert words in answer[1]


def test_bodies_held_at_once_are_bounded(guarded: Appliance) -> None:
    """96 API bodies of a megabyte each (the API's limit), sent from 3 addresses and left
    half-way: the service holds 64 MiB of bodies at most, the others are told to come back,
    and the service answers meanwhile."""
    head = (f"POST {API}/vms HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml"
            f"\r\nContent-Length: {MIB}\r\n\r\n").encode() + b"<vm>" + b" " * 4096
    held = []
    try:
        for number in range(96):
            sock = siege.connect_from(siege.attacker(20 + number // 32), guarded)
            sock.sendall(head)
            held.append(sock)
        time.sleep(1)
        told = [sock.recv(200) for sock in held if select.select([sock], [], [], 0)[0]]
        assert_served(guarded, siege.probe(guarded, seconds=1))
    finally:
        for sock in held:
            sock.close()
    assert len(told) >= 30 and all(b" 503 " in answer for answer in told), told[:3]
    assert len(held) - len(told) <= 64


def test_a_long_head_is_refused(guarded: Appliance) -> None:
    head = "GET /health HTTP/1.1\nHost: 127.0.0.1\n" + "X-Padding: " + "a" * 40_000 + "\n"
    assert siege.send_head(guarded, head, source=siege.attacker(3))[0] == 431


def test_chunked_bodies_are_bounded(guarded: Appliance) -> None:
    head = ("POST /login HTTP/1.1\nHost: 127.0.0.1\nTransfer-Encoding: chunked\n"
            "Content-Type: application/x-www-form-urlencoded\n")
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    answer = siege.send_head(guarded, head, source=siege.attacker(3), body=chunk * 4)
    assert answer[0] == 413, answer


def test_uploads_with_a_token_are_read(guarded: Appliance) -> None:
    token = guarded.token()
    [domain] = [d for d in _ids(guarded.request("GET", f"{API}/storagedomains", token=token)
                                .text, "storage_domain")][:1]
    data = b"not an ISO image" * 64
    head = (f"POST {API}/storagedomains/{domain}/isoimages?name=x.iso HTTP/1.1\n"
            f"Host: 127.0.0.1\nAuthorization: Bearer {token}\n"
            f"Content-Type: application/octet-stream\nContent-Length: {len(data)}\n")
    answer = siege.send_head(guarded, head, body=data, timeout=30)
    assert answer[0] == 400 and "ISO" in answer[1], answer  # read, then judged by content


def test_big_bodies_to_login_keep_the_service_answering(guarded: Appliance) -> None:
    """Bodies of a declared gigabyte streamed as fast as loopback goes: the service takes
    none of it (what the kernel buffers before the refusal is a few MiB)."""
    taken: list[int] = []  # bytes sent on each refused connection

    def post_gigabytes(stop: threading.Event) -> None:
        head = (f"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {GIB}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n\r\n").encode()
        chunk = b"x" * 65536
        while not stop.is_set():
            sent = 0
            try:
                with siege.connect_from(siege.attacker(4), guarded) as sock:
                    sock.sendall(head)
                    while sent < 64 * MIB and not stop.is_set():
                        sock.sendall(chunk)
                        sent += len(chunk)
            except OSError:
                taken.append(sent)  # the service closed it

    with siege.under(post_gigabytes, threads=3, warmup=0.5):
        watch = siege.probe(guarded, seconds=3)
    assert_served(guarded, watch)
    assert len(taken) >= 10 and max(taken) < 32 * MIB, taken


def _ids(text: str, tag: str) -> list[str]:
    import xml.etree.ElementTree as ET

    return [e.get("id") or "" for e in ET.fromstring(text).iter(tag)]


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_failed_logins_elsewhere_do_not_lock_the_admin_out(guarded: Appliance,
                                                           https: bool) -> None:
    guesser = siege.attacker(5 if https else 6)
    answers = [siege.login_from(guarded, guesser, "admin@internal", "guess", https=https)
               for _ in range(8)]
    assert answers == [400] * 5 + [429] * 3
    # The guesser is throttled, even with the right password; the admin elsewhere is not.
    assert siege.login_from(guarded, guesser, "admin@internal", ADMIN_PASSWORD,
                            https=https) == 429
    assert siege.login_from(guarded, "127.0.0.1", "admin@internal", ADMIN_PASSWORD,
                            https=https) == 200
    assert_served(guarded, siege.probe(guarded, seconds=0.5, https=https))


LARGE_ASSET = "/assets/vendor/novnc/core/rfb.js"  # public, and more than the socket buffers


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_clients_that_stop_reading_lose_their_places(guarded: Appliance, https: bool) -> None:
    """As many connections as an address may hold ask for a page and never read it: they
    are dropped once their answers stall, and the address gets in again."""
    assert len(guarded.request("GET", LARGE_ASSET).text) > 100_000
    source = siege.attacker(8 if https else 9)
    stuck = [_unread(guarded, source, https=https) for _ in range(32)]
    try:
        time.sleep(1)
        assert not _gets_in(guarded, source, https=https)  # every place of it is held
        # Without the drop they would be held for ever; with it, within a few stalls (8
        # workers write the 32 answers, so on a loaded machine this takes a while).
        deadline = time.monotonic() + STALL_SECONDS + 45
        while not _gets_in(guarded, source, https=https):
            assert time.monotonic() < deadline, "the stuck readers kept their places"
            time.sleep(1)
        assert_served(guarded, siege.probe(guarded, seconds=0.5, https=https))
    finally:
        for sock in stuck:
            sock.close()


def _unread(appliance: Appliance, source: str, *, https: bool) -> socket.socket:
    parsed = urllib.parse.urlparse(appliance.https_url if https else appliance.url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)  # it takes almost nothing
    sock.bind((source, 0))
    sock.settimeout(5)
    sock.connect((parsed.hostname or "127.0.0.1", parsed.port or 80))
    if https:
        sock = ssl._create_unverified_context().wrap_socket(sock)
    # Asked 40 times over (5 MiB, more than the kernel buffers between us): a front that
    # relays it is left waiting on this client, not only on its server.
    sock.sendall(f"GET {LARGE_ASSET} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * 40)
    return sock


def _gets_in(appliance: Appliance, source: str, *, https: bool) -> bool:
    try:
        answer = siege.send_head(appliance, "GET /health HTTP/1.1\nHost: 127.0.0.1\n",
                                 source=source, https=https)
    except OSError:
        return False
    return answer[0] == 200
