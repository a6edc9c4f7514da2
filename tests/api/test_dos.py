"""Denial of service against a real ``virtstick serve``: each attack runs in a bounded loop on
127.0.0.1 while /health must answer within a second and an honest client must still log in.

The appliance is this module's own, so attacks leave the other API tests' service alone."""

from __future__ import annotations

import secrets
import shutil
import threading
import urllib.parse
from collections.abc import Iterator

import pytest

from tests import sandbox
from tests.api import siege
from tests.api.conftest import Appliance, start_appliance, stop_appliance

API = "/ovirt-engine/api"


@pytest.fixture(scope="module")
def guarded() -> Iterator[Appliance]:
    base = sandbox.state_dir("vs-dos-")
    prefix = f"vsdos{secrets.token_hex(3)}-"
    process, running = start_appliance(base, prefix=prefix, auth={"token_idle_minutes": 30.0})
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
