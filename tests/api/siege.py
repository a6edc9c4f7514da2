"""Attacks on a running appliance, in bounded loops on 127.0.0.1, and the honest client beside
them: /health must answer within a second and a login must get in while an attack runs.

Attackers connect from other loopback addresses (127.0.0.2 and up; Linux routes all of
127/8 to lo), so the service sees them as other machines, while the honest client and the
/health probe come from 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import resource
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

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
        conn = http.client.HTTPSConnection(parsed.netloc, timeout=timeout,
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parsed.netloc, timeout=timeout)
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
def under(attack: Attack, *, threads: int = 1, warmup: float = 1.0,
          separate: bool = False) -> Iterator[None]:
    """The attack runs in ``threads`` threads for the body of the ``with``; ``separate``
    runs them in a process of their own, so the attacker's work does not slow the probe in
    this one (what the attack records is then lost)."""
    if separate:
        context = multiprocessing.get_context("fork")
        halt = context.Event()
        process = context.Process(target=_attack_threads, args=(attack, threads, halt),
                                  daemon=True)
        process.start()
        time.sleep(warmup)
        try:
            yield
        finally:
            halt.set()
            process.join(30)
            if process.is_alive():
                process.kill()
        return
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


def _attack_threads(attack: Attack, threads: int, halt: Any) -> None:
    stop = threading.Event()
    workers = [threading.Thread(target=attack, args=(stop,), daemon=True)
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    halt.wait()
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


HALF_SENT = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # the blank line never comes


@dataclass
class _Slot:
    source: str
    sock: socket.socket | None = None
    next_try: float = 0.0
    opened: float = 0.0


class ConnectionHolder:
    """Keeps ``per_source`` connections open from each source, each sending ``first`` and
    then ``trickle`` every ``every`` seconds (slowloris; b"" for idle ones); what the service
    closes is opened again, at most twice a second per place. ``most_open`` is the most it
    held at once for a second or more (a refused connection closes sooner)."""

    def __init__(self, appliance: Appliance, *, sources: list[str], per_source: int,
                 https: bool = False, handshake: bool = True, first: bytes = HALF_SENT,
                 trickle: bytes = b"X-a: b\r\n", every: float = 1.0) -> None:
        raise_open_files_limit()
        self.appliance = appliance
        self.sources = sources
        self.per_source = per_source
        self.https = https
        self.handshake = handshake
        self.first = first
        self.trickle = trickle
        self.every = every
        self.most_open = 0

    def __call__(self, stop: threading.Event) -> None:
        slots = [_Slot(source) for source in self.sources for _ in range(self.per_source)]
        last_trickle = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            for slot in slots:
                if slot.sock is None and now >= slot.next_try:
                    slot.next_try = now + 0.5
                    slot.sock = _open(self.appliance, slot.source, https=self.https,
                                      handshake=self.handshake, first=self.first)
                    slot.opened = now
            if self.trickle and now - last_trickle >= self.every:
                last_trickle = now
                for slot in slots:
                    if slot.sock is not None and not _send(slot.sock, self.trickle):
                        _drop(slot)
            stop.wait(0.1)
            for slot in slots:
                if slot.sock is not None and _closed_by_peer(slot.sock):
                    _drop(slot)
            settled = time.monotonic() - 1.0
            self.most_open = max(self.most_open, sum(s.sock is not None and s.opened < settled
                                                     for s in slots))
        for slot in slots:
            _drop(slot)


def _open(appliance: Appliance, source: str, *, https: bool, handshake: bool,
          first: bytes) -> socket.socket | None:
    try:
        parsed = urllib.parse.urlparse(appliance.https_url if https else appliance.url)
        sock = socket.create_connection((parsed.hostname or "", parsed.port or 80), timeout=2,
                                        source_address=(source, 0))
        if https and handshake:
            sock = ssl._create_unverified_context().wrap_socket(sock)
        if first and (not https or handshake):
            sock.sendall(first)
        sock.setblocking(False)
        return sock
    except OSError:
        return None


def _send(sock: socket.socket, data: bytes) -> bool:
    try:
        sock.send(data)
        return True
    except ssl.SSLWantWriteError:
        return True
    except OSError:
        return False


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(4096) is not None  # any answer (a refusal) or b"": it is over
    except (BlockingIOError, ssl.SSLWantReadError):
        return False
    except OSError:
        return True


def _drop(slot: _Slot) -> None:
    if slot.sock is not None:
        with contextlib.suppress(OSError):
            slot.sock.close()
    slot.sock = None


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < min(hard, 8192):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))


def send_head(appliance: Appliance, head: str, *, source: str = "127.0.0.1",
              body: bytes = b"", https: bool = False, timeout: float = 2.0) -> tuple[int, str]:
    """Send a request's head (and maybe some of its body), then read the answer: the status
    and the text, or (0, reason) when none came within ``timeout``."""
    sock = connect_from(source, appliance, https=https, timeout=timeout)
    try:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _expected_length(data):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        return 0, "no answer"
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    status_line, _, rest = data.decode("utf-8", "replace").partition("\r\n")
    parts = status_line.split(" ")
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), rest


def _expected_length(data: bytes) -> int:
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(head) + 4 + int(value.strip())
    return len(data) + 1  # no length: read until closed


def login_from(appliance: Appliance, source: str, username: str, password: str, *,
               https: bool = False) -> int:
    """The status of an SSO password grant sent from ``source``."""
    parsed = urllib.parse.urlparse(appliance.https_url if https else appliance.url)
    conn: http.client.HTTPConnection
    if https:
        conn = http.client.HTTPSConnection(parsed.netloc, timeout=30,
                                           source_address=(source, 0),
                                           context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection(parsed.netloc, timeout=30,
                                          source_address=(source, 0))
    form = urllib.parse.urlencode({"grant_type": "password", "scope": "ovirt-app-api",
                                   "username": username, "password": password})
    try:
        conn.request("POST", "/ovirt-engine/sso/oauth/token", body=form, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
