"""The pages' live streams against the real service (waitress, its connection limits, the
engine): many open pages hold none of waitress's worker threads, every one hears of a change,
the bounds per session and per address hold, and a stream ends with its session."""

from __future__ import annotations

import http.cookiejar
import json
import re
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.engine.model import BLANK_TEMPLATE_ID
from appliance.httpserver import THREADS
from tests.webui.service import ADMIN, Service, start_service
from webui.live_streams import HEARTBEAT_SECONDS, StreamLimits

PER_SESSION = StreamLimits().per_session
PER_ADDRESS = 32 // 2  # the service's default connection limit per address, halved
SESSIONS = PER_ADDRESS // PER_SESSION
PASSWORD = "a long passphrase 1"


@dataclass
class Session:
    """A logged-in portal session over plain HTTP, with its cookie and CSRF token."""

    service: Service
    opener: urllib.request.OpenerDirector
    jar: http.cookiejar.CookieJar
    csrf: str = ""

    @classmethod
    def log_in(cls, service: Service, username: str = ADMIN, password: str = "") -> Session:
        jar = http.cookiejar.CookieJar()
        session = cls(service, urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar)), jar)
        session.get("/login")
        session.post("/login", username=username, password=password or service.admin_password)
        return session

    def get(self, path: str) -> str:
        with self.opener.open(self.service.url + path, timeout=30) as response:
            return self._keep_csrf(response.read().decode())

    def post(self, path: str, **form: str) -> str:
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        with self.opener.open(self.service.url + path, data=data, timeout=60) as response:
            self._keep_csrf(response.read().decode())
            return str(response.url)

    def _keep_csrf(self, body: str) -> str:
        found = re.search(r'name="csrf-token" content="([^"]+)"', body)
        if found:
            self.csrf = found.group(1)
        return body

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


class Stream:
    """A page's stream read by hand: the status line, then its events as they come."""

    def __init__(self, session: Session, topics: str = "vms,jobs,events,dashboard") -> None:
        port = int(session.service.url.rsplit(":", 1)[1])
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(f"GET /live/stream?topics={topics} HTTP/1.1\r\nHost: t\r\n"
                          f"Accept: text/event-stream\r\nCookie: {session.cookie()}\r\n\r\n"
                          .encode())
        self.buffer = b""
        head = self._until(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])

    def _until(self, marker: bytes, timeout: float = 30) -> bytes:
        deadline = time.monotonic() + timeout
        while marker not in self.buffer:
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"the stream closed; it said {self.buffer[-500:]!r}")
            self.buffer += chunk
        found, _, self.buffer = self.buffer.partition(marker)
        return found + marker

    def event(self, name: str, timeout: float = 60) -> dict[str, object]:
        """The data of the next event called ``name`` (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            block = self._until(b"\n\n", max(0.1, deadline - time.monotonic())).decode(
                errors="replace")
            lines = [re.sub(r"^[0-9A-F]+\r\n", "", line.strip("\r")) for line in
                     block.split("\n")]
            if f"event: {name}" in lines:
                data = next(line for line in lines if line.startswith("data: "))
                return dict(json.loads(data[6:]))

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def service(demo_disk: Path) -> Iterator[Service]:
    """A service of its own: other tests' open pages count against the same address."""
    running = start_service(demo_disk)
    yield running
    running.stop()


@pytest.fixture
def sessions(service: Service) -> list[Session]:
    return [Session.log_in(service) for _ in range(SESSIONS + 1)]


def test_open_pages_hold_no_worker_and_all_hear_of_a_change(
        service: Service, sessions: list[Session]) -> None:
    streams = [Stream(s) for s in sessions[:SESSIONS] for _ in range(PER_SESSION)]
    try:
        assert len(streams) > THREADS  # more pages than waitress has workers
        assert all(s.status == 200 for s in streams)
        for stream in streams:
            stream.event("open")
        # If each stream held a worker these would wait for ever; they answer at once.
        with urllib.request.urlopen(service.url + "/health", timeout=10) as response:
            assert json.load(response)["status"] == "ok"
        assert "Dashboard" in sessions[0].get("/admin/")
        sessions[0].post("/admin/vms", name="heard-by-all", template_id=BLANK_TEMPLATE_ID,
                         memory_mib="64", disk_gib="0")
        for stream in streams:
            assert stream.event("vm")["name"] == "heard-by-all"
        counts = streams[0].event("dashboard")
        assert int(str(counts["vms_total"])) >= 1
        # The address holds as many streams as it may: the next page polls instead.
        refused = Stream(sessions[SESSIONS])
        assert refused.status == 429
        refused.close()
    finally:
        for stream in streams:
            stream.close()


def test_a_session_holds_a_few_streams_and_they_end_at_logout(
        service: Service, sessions: list[Session]) -> None:
    session = sessions[0]
    streams = [Stream(session, "jobs") for _ in range(PER_SESSION)]
    try:
        for stream in streams:
            stream.event("open")
        extra = Stream(session, "jobs")
        assert extra.status == 429  # a browser's six connections stay usable
        extra.close()
        other = Stream(sessions[1], "jobs")  # another session is not held back
        assert other.status == 200
        other.close()
        session.post("/logout")
        for stream in streams:
            ended = stream.event("end", timeout=15)
            assert ended["final"] is True and "logged out" in str(ended["reason"])
        assert Stream(session, "jobs").status in (302, 401)
    finally:
        for stream in streams:
            stream.close()


def test_a_removed_users_streams_end_within_a_heartbeat(service: Service,
                                                         sessions: list[Session]) -> None:
    admin = sessions[0]
    admin.post("/admin/users", name="leaving", password=PASSWORD, email="", role="UserRole")
    [row] = [r for r in admin.get("/admin/users").split("<tr") if "leaving@internal" in r]
    found = re.search(r"/admin/users/([0-9a-f-]{36})/delete", row)
    assert found, "the new user cannot be removed from the list"
    user_id = found.group(1)
    leaving = Session.log_in(service, "leaving", PASSWORD)
    stream = Stream(leaving, "vms,jobs")
    try:
        assert stream.status == 200
        stream.event("open")
        admin.post(f"/admin/users/{user_id}/delete")
        ended = stream.event("end", timeout=3 * HEARTBEAT_SECONDS)
        assert ended["final"] is True and "session has ended" in str(ended["reason"])
    finally:
        stream.close()
