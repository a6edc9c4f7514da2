"""Attacks on a running appliance, in bounded loops on 127.0.0.1, and the honest client beside
them: /health must answer within a second and a login must get in while an attack runs.

Attackers connect from other loopback addresses (127.0.0.2 and up; Linux routes all of
127/8 to lo), so the service sees them as other machines, while the honest client and the
/health probe come from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tests.api.conftest import ADMIN_PASSWORD, Appliance

HEALTH_DEADLINE = 1.0  # seconds /health may take during an attack
Attack = Callable[[threading.Event], None]  # runs until the event is set


@dataclass
class Watch:
    """What the probe saw while the attack ran."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def slowest(self) -> float:
        return max(self.latencies, default=float("inf"))

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def health_once(appliance: Appliance, *, timeout: float = HEALTH_DEADLINE,
                https: bool = False) -> float:
    """Seconds a fresh connection takes to get /health's 200 (raises on a timeout)."""
    parsed = urllib.parse.urlparse(appliance.https_url if https else appliance.url)
    started = time.monotonic()
    conn: http.client.HTTPConnection
    if https:
        conn = http.client.HTTPSConnection(parsed.hostname, parsed.port, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise OSError(f"/health answered {response.status}")
    finally:
        conn.close()
    return time.monotonic() - started


def probe(appliance: Appliance, *, seconds: float, https: bool = False,
          interval: float = 0.05) -> Watch:
    watch = Watch()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            watch.latencies.append(health_once(appliance, https=https))
        except OSError as exc:
            watch.failures.append(f"{type(exc).__name__}: {exc}")
        time.sleep(interval)
    return watch


@contextlib.contextmanager
def under(attack: Attack, *, threads: int = 1, warmup: float = 1.0) -> Iterator[None]:
    """The attack runs in ``threads`` threads for the body of the ``with``."""
    stop = threading.Event()
    workers = [threading.Thread(target=attack, args=(stop,), daemon=True, name="attacker")
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    time.sleep(warmup)
    try:
        yield
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)


def honest_login(appliance: Appliance) -> int:
    """The status of an SDK-style token request by admin from 127.0.0.1."""
    return appliance.login("admin@internal", ADMIN_PASSWORD).status


def connect_from(source: str, appliance: Appliance, *, https: bool = False,
                 timeout: float = 5.0) -> socket.socket:
    parsed = urllib.parse.urlparse(appliance.https_url if https else appliance.url)
    sock = socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 80),
                                    timeout=timeout, source_address=(source, 0))
    if https:
        return ssl._create_unverified_context().wrap_socket(sock)
    return sock


def attacker(number: int) -> str:
    """The loopback address of attacker ``number`` (0-based)."""
    return f"127.0.{1 + number // 250}.{2 + number % 250}"
