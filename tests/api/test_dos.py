"""Denial of service against a real ``virtstick serve``: each attack runs in a bounded loop on
127.0.0.1 while /health must answer within a second and an honest client must still log in.

The appliance is this module's own, so attacks leave the other API tests' service alone."""

from __future__ import annotations

import dataclasses
import secrets
import shutil
import threading
import urllib.parse
from collections.abc import Iterator

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests import sandbox
from tests.api import siege
from tests.api.conftest import Appliance, free_port, start_appliance, stop_appliance

API = "/ovirt-engine/api"
CONSOLE_PORT = free_port()


@pytest.fixture(scope="module")
def guarded() -> Iterator[Appliance]:
    base = sandbox.state_dir("vs-dos-")
    prefix = f"vsdos{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix, auth={"token_idle_minutes": 30.0},
                                       http={"console_listen": f"127.0.0.1:{CONSOLE_PORT}"})
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
    # The address's limit (32) holds, give or take the refused ones not yet seen closing.
    assert attack.most_open < 60


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
    assert attack.most_open < 40  # the proxy's limit per address is 16
