"""Request bodies refused early, by route, before they are read.

waitress reads a whole body (spooling what exceeds its buffer to a temporary file, which on
the stick is RAM) before the application runs, so a login check in a view comes too late:
three 1 GB POSTs to /login would hold 3 GB. The rules here are decided on the request's head
alone: a route's limit, and for uploads valid credentials (a bearer token or a portal
session, both checked without hashing) before a byte of the body is taken. The same
decision runs as waitress's parser hook (``appliance.httpserver``) and as WSGI middleware in
front of Flask (for any other server, and for bodies without a Content-Length).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from http.cookies import CookieError, SimpleCookie
from typing import IO, Any
from xml.sax.saxutils import escape

from werkzeug.exceptions import RequestEntityTooLarge

from appliance.engine.users import Users
from appliance.errors import NotAuthenticated, PayloadTooLarge, ServerBusy, VirtStickError
from appliance.tls import WsgiApp

KiB, MiB = 1024, 1024 * 1024
API_PREFIX = "/ovirt-engine/api"
SSO_PREFIX = "/ovirt-engine/sso"
# The API's own ISO upload (a body of the whole image, which waitress holds before the view
# runs, past 512 KiB in a temporary file: RAM on the stick) takes small images only; larger
# ones go through an image transfer, which the daemon streams to storage.
ISO_SHORTCUT_LIMIT = 16 * MiB


@dataclass(frozen=True)
class Head:
    """What is known of a request before its body: method, path and a few headers."""

    method: str
    path: str
    content_length: int | None  # None for a chunked body
    authorization: str = ""
    cookie: str = ""


@dataclass(frozen=True)
class BodyRule:
    """Bodies of ``methods`` on paths matching ``path`` (a regex) take ``limit`` bytes; with
    ``login_first`` only from a client whose credentials check out before the body."""

    path: str
    limit: int
    methods: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})
    login_first: bool = False
    what: str = "this request"


@dataclass(frozen=True)
class Admission:
    limit: int
    upload: bool  # an authenticated upload: no deadline on the whole request
    held: int = 0  # bytes reserved from the body budget (release them when done)


class BodyBudget:
    """The bytes of request bodies the server holds at once, however many clients send
    them: each admitted body past ``small`` reserves its size (its limit when chunked)
    until its request ends, and a body that does not fit waits for another to end (503)."""

    def __init__(self, total: int = 64 * MiB, *, small: int = 64 * KiB) -> None:
        self.total = total
        self.small = small
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    def reserve(self, size: int) -> int:
        """Bytes reserved (0 for a small body); raises ServerBusy."""
        if size <= self.small:
            return 0
        with self._lock:
            if self._held + size > self.total:
                raise ServerBusy(f"The server holds {self._held // MiB} MiB of request bodies "
                                 f"(its limit is {self.total // MiB} MiB); send this one "
                                 "again in a moment.")
            self._held += size
        return size

    def release(self, size: int) -> None:
        with self._lock:
            self._held = max(0, self._held - size)


def rules(*, upload_limit: int = ISO_SHORTCUT_LIMIT) -> tuple[BodyRule, ...]:
    """The first rule whose method and path match applies. The portals upload through image
    transfers: no portal route takes more than a form."""
    return (
        BodyRule(r"/ovirt-engine/api/storagedomains/[^/]+/isoimages", upload_limit,
                 frozenset({"POST"}), login_first=True,
                 what="an ISO upload through /isoimages (larger images go through an image "
                      "transfer: upload_disk.py, ovirt-img or the Admin Portal)"),
        # Credentials travel in these bodies: a few fields.
        BodyRule(r"/login|/logout|/ovirt-engine/sso/.*|/ovirt-engine/services/sso-logout",
                 16 * KiB, what="a login form"),
        BodyRule(r"/ovirt-engine/services/host-join", 128 * KiB, what="a host's join request"),
        BodyRule(r"/ovirt-engine/api(/.*)?", MiB, what="an API request"),  # its own cap too
        BodyRule(r".*", 256 * KiB, what="a form"),
    )


class Credentials:
    """Whether a request's head carries a live session, without hashing a password: an API
    bearer token, or a portal session cookie (whose token is the same kind)."""

    def __init__(self, users: Users, *, cookie_name: str,
                 read_session: Callable[[str], Mapping[str, Any] | None]) -> None:
        self.users = users
        self.cookie_name = cookie_name
        self.read_session = read_session

    def valid(self, head: Head) -> bool:
        scheme, _, value = head.authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return self._live(value.strip())
        token = self._session_token(head.cookie)
        return token is not None and self._live(token)

    def _live(self, token: str) -> bool:
        try:
            return self.users.token_expiry(token) > time.time()
        except NotAuthenticated:
            return False

    def _session_token(self, header: str) -> str | None:
        if not header:
            return None
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(header)
        except CookieError:
            return None
        morsel = cookies.get(self.cookie_name)
        data = self.read_session(morsel.value) if morsel is not None else None
        token = data.get("token") if data else None
        return str(token) if token else None


class BodyGate:
    def __init__(self, rules: Iterable[BodyRule], credentials: Credentials | None = None, *,
                 budget: BodyBudget | None = None) -> None:
        """Without ``credentials`` (a server with no logins) no ``login_first`` body gets in."""
        self.rules = tuple((re.compile(rule.path), rule) for rule in rules)
        self.credentials = credentials
        self.budget = budget or BodyBudget()

    @property
    def largest(self) -> int:
        return max(rule.limit for _, rule in self.rules)

    def decide(self, head: Head) -> Admission:
        """The body this request may send; raises PayloadTooLarge or NotAuthenticated."""
        rule = self._rule(head)
        if head.content_length is not None and head.content_length > rule.limit:
            raise PayloadTooLarge(f"The request body has {head.content_length} bytes; the "
                                  f"limit for {rule.what} is {rule.limit} bytes.")
        if rule.login_first and head.content_length != 0 and \
                (self.credentials is None or not self.credentials.valid(head)):
            raise NotAuthenticated(f"Log in before {rule.what}: send a bearer token from "
                                   "/ovirt-engine/sso/oauth/token (or use the portal).")
        return Admission(limit=rule.limit, upload=rule.login_first)

    def admit(self, head: Head) -> Admission:
        """``decide``, and the body's bytes reserved from the budget (a server that holds
        whole bodies calls this, and ``budget.release(admission.held)`` when done)."""
        admission = self.decide(head)
        size = head.content_length if head.content_length is not None else admission.limit
        return replace(admission, held=self.budget.reserve(size))

    def middleware(self, app: WsgiApp) -> WsgiApp:
        def gated(environ: dict[str, Any], start_response: Callable[..., Any]
                  ) -> Iterable[bytes]:
            head = head_from_environ(environ)
            try:
                admission = self.decide(head)
            except VirtStickError as exc:
                status, headers, body = refusal(exc, head.path)
                start_response(status, headers)
                return [body]
            if head.content_length is None:
                environ["wsgi.input"] = _Bounded(environ["wsgi.input"], admission.limit)
            return app(environ, start_response)

        return gated

    def _rule(self, head: Head) -> BodyRule:
        for pattern, rule in self.rules:
            if head.method in rule.methods and pattern.fullmatch(head.path):
                return rule
        return BodyRule(".*", 0, what="a request of this kind")  # GET and friends: no body


def head_from_environ(environ: Mapping[str, Any]) -> Head:
    length = str(environ.get("CONTENT_LENGTH") or "")
    chunked = "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()
    return Head(method=str(environ.get("REQUEST_METHOD", "GET")),
                path=str(environ.get("PATH_INFO", "")),
                content_length=int(length) if length.isdigit() else (None if chunked else 0),
                authorization=str(environ.get("HTTP_AUTHORIZATION", "")),
                cookie=str(environ.get("HTTP_COOKIE", "")))


def refusal(exc: VirtStickError, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """The answer in the form the route's clients read: an oVirt ``<fault>`` for the API,
    SSO's JSON error, plain text for the portals."""
    status = f"{exc.status} {exc.reason}"
    if path.startswith(API_PREFIX):
        body = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<fault><reason>'
                f"{escape(exc.reason)}</reason><detail>{escape(exc.detail)}</detail></fault>")
        kind = "application/xml;charset=UTF-8"
    elif path.startswith(SSO_PREFIX):
        body = json.dumps({"error_code": exc.code, "error": exc.detail})
        kind = "application/json;charset=UTF-8"
    else:
        body, kind = exc.detail + "\n", "text/plain; charset=utf-8"
    headers = [("Content-Type", kind), ("Connection", "close")]
    if exc.status == 401:
        headers.append(("WWW-Authenticate", 'Bearer realm="VirtStick"'))
    return status, headers, body.encode()


class _Bounded:
    """A body without a length, refused once it passes its limit."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream = stream
        self._left = limit

    def read(self, size: int = -1) -> bytes:
        return self._count(self._stream.read(self._ask(size)))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self._stream.readline(self._ask(size)))

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def _ask(self, size: int) -> int:
        return self._left + 1 if size < 0 else min(size, self._left + 1)

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise RequestEntityTooLarge()
        return data
