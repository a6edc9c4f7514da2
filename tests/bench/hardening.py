"""Hardening benchmarks against a real ``virtstick serve``: /health's p99 latency during each
attack of tests/api/test_dos.py against the same probe on an idle service, and the cost of
the worst search the language allows over 500 VMs against a plain name search."""

from __future__ import annotations

import http.client
import secrets
import shutil
import statistics
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from appliance.api import search
from tests import sandbox
from tests.api import siege
from tests.api.conftest import Appliance, start_appliance, stop_appliance
from tests.bench import Figure

PROBE_SECONDS = 3.0
VMS = 500
GIB = 1024**3


def run() -> list[Figure]:
    base = sandbox.state_dir("vs-hardening-bench-")
    prefix = f"vshb{secrets.token_hex(3)}-"
    process, appliance = start_appliance(base, prefix=prefix,
                                         auth={"token_idle_minutes": 30.0})
    try:
        time.sleep(5)  # past the engine's first work (the demo template's import)
        figures = [_under(appliance, attack) for attack in _attacks(appliance)]
        figures += _searches(appliance)
        figures += _matching()
    finally:
        stop_appliance(process, prefix)
        shutil.rmtree(base, ignore_errors=True)
    return figures


@dataclass(frozen=True)
class _Attack:
    name: str
    run: siege.Attack
    threads: int = 1
    https: bool = False


def _attacks(appliance: Appliance) -> list[_Attack]:
    one, many = [siege.attacker(0)], [siege.attacker(10 + n) for n in range(15)]
    return [
        _Attack("120 half-sent requests, one address",
                siege.ConnectionHolder(appliance, sources=one, per_source=120)),
        _Attack("120 half-sent requests over HTTPS, one address",
                siege.ConnectionHolder(appliance, sources=one, per_source=120, https=True),
                https=True),
        _Attack("120 idle connections, one address",
                siege.ConnectionHolder(appliance, sources=one, per_source=120, first=b"",
                                       trickle=b"")),
        _Attack("450 half-sent requests from 15 addresses",
                siege.ConnectionHolder(appliance, sources=many, per_source=30), threads=2),
        _Attack("declared 1 GiB bodies to /login, 3 at a time", _gigabytes(appliance),
                threads=3),
        _Attack("the worst search, 2 clients", _worst_searches(appliance), threads=2),
    ]


def _under(appliance: Appliance, attack: _Attack) -> Figure:
    """The probe idle, then under the attack: the machine's load changes by the minute."""
    idle = siege.probe(appliance, seconds=PROBE_SECONDS, https=attack.https)
    with siege.under(attack.run, threads=attack.threads, warmup=2.0, separate=True):
        watch = siege.probe(appliance, seconds=PROBE_SECONDS, https=attack.https)
    failed = f"; {len(watch.failures)} probes failed" if watch.failures else ""
    return Figure(f"/health p99 during {attack.name}", watch.p99() * 1000, "ms",
                  baseline=idle.p99() * 1000, target=f"< 1000 ms{failed}")


def _gigabytes(appliance: Appliance) -> siege.Attack:
    head = (f"POST /login HTTP/1.1\nHost: 127.0.0.1\nContent-Length: {GIB}\n"
            "Content-Type: application/x-www-form-urlencoded\n")

    def attack(stop: threading.Event) -> None:
        while not stop.is_set():
            siege.send_head(appliance, head, source=siege.attacker(4), body=b"x" * 65536)

    return attack


def _worst_query() -> str:
    return "name=" + "*a" * (search.MAX_WILDCARDS - 1) + "*b"


def _worst_searches(appliance: Appliance) -> siege.Attack:
    token = appliance.token()
    query = urllib.parse.quote(_worst_query())

    def attack(stop: threading.Event) -> None:
        while not stop.is_set():
            appliance.request("GET", f"/ovirt-engine/api/vms?search={query}", token=token)

    return attack


def _searches(appliance: Appliance) -> list[Figure]:
    token = appliance.token()
    _add_vms(appliance, token, VMS)
    plain = _search_time(appliance, token, "name=nothing-like-it")
    figures = []
    for label, text in _worst_candidates():
        figures.append(Figure(f"GET /vms?search= {label}, {VMS} VMs",
                              _search_time(appliance, token, text) * 1000, "ms",
                              baseline=plain * 1000, target="baseline: name=x"))
    return figures


def _worst_candidates() -> list[tuple[str, str]]:
    """What the bounds allow: every wildcard in one condition, spread over all conditions,
    and the longest text."""
    spread = " or ".join(["name=*a*b"] * (search.MAX_WILDCARDS // 2))
    longest = "name=*" + "a" * (search.MAX_LENGTH - 12) + "*b"
    return [(f"{search.MAX_WILDCARDS} wildcards in one condition", _worst_query()),
            (f"{search.MAX_WILDCARDS // 2} conditions of 2 wildcards", spread),
            (f"one condition of {search.MAX_LENGTH} characters", longest)]


@dataclass(frozen=True)
class _Named:
    name: str


def _matching(rounds: int = 20) -> list[Figure]:
    """The matcher alone, in this process: CPU time of one search over 500 names."""
    names = [_Named("a" * 55 + f"-{n:08d}") for n in range(VMS)]
    fields: dict[str, search.Getter] = {"name": lambda o: o.name}

    def cost(text: str) -> float:
        query = search.parse(text)
        started = time.process_time()
        for _ in range(rounds):
            query.apply(names, fields)
        return (time.process_time() - started) / rounds

    plain = cost("name=nothing-like-it")
    return [Figure(f"matching {label} over {VMS} names (CPU)", cost(text) * 1000, "ms",
                   baseline=plain * 1000, target="baseline: name=x")
            for label, text in _worst_candidates()]


def _add_vms(appliance: Appliance, token: str, count: int) -> None:
    for number in range(count):
        name = "a" * 55 + f"-{number:08d}"  # 64 characters, what the worst search scans
        reply = appliance.request("POST", "/ovirt-engine/api/vms", f"<vm><name>{name}</name>"
                                  "<template><name>Blank</name></template>"
                                  "<memory>67108864</memory></vm>", token=token)
        assert reply.status == 201, reply.text


def _search_time(appliance: Appliance, token: str, text: str, rounds: int = 15) -> float:
    host, port = appliance.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    path = f"/ovirt-engine/api/vms?search={urllib.parse.quote(text)}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/xml"}
    times = []
    try:
        for _ in range(rounds + 1):
            times.append(_timed(lambda: _get(conn, path, headers)))
    finally:
        conn.close()
    return statistics.median(times[1:])


def _get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> None:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    response.read()
    assert response.status == 200, path


def _timed(action: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
