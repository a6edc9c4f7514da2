"""A small client of the appliance's own REST API (JSON variant), for the ``virtstick`` CLI:
logs in through SSO, turns faults back into the engine's errors, logs out at the end. The
connection options every client command shares (``--url``, ``--user``, ``--ca-file`` and
the password from the environment or a prompt) are here too, so the command modules depend
on this one alone."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from appliance.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    VirtStickError,
)

URL_ENV = "VIRTSTICK_URL"
USER_ENV = "VIRTSTICK_USER"
PASSWORD_ENV = "VIRTSTICK_PASSWORD"

_BY_STATUS: dict[int, type[VirtStickError]] = {400: InvalidInput, 401: NotAuthenticated,
                                               403: PermissionDenied, 404: NotFound,
                                               409: Conflict}


class ServiceUnreachable(VirtStickError):
    status = 503
    code = "unreachable"
    reason = "Service unreachable"


@dataclass(frozen=True)
class ClientSettings:
    url: str  # http(s)://host:port, without /ovirt-engine
    username: str
    password: str
    ca_file: str | None = None


class ApiClient:
    def __init__(self, settings: ClientSettings) -> None:
        self.settings = settings
        self.base = _service_url(settings.url)
        self._context = (_tls_context(settings.ca_file)
                         if self.base.startswith("https") else None)
        self._token: str | None = None

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.logout()

    def login(self) -> None:
        form = urllib.parse.urlencode({"grant_type": "password", "scope": "ovirt-app-api",
                                       "username": self.settings.username,
                                       "password": self.settings.password}).encode()
        data = self._send("POST", "/ovirt-engine/sso/oauth/token", form,
                          {"Content-Type": "application/x-www-form-urlencoded"}, sso=True)
        if "error" in data:
            raise NotAuthenticated(f"Login as {self.settings.username} failed: {data['error']}")
        self._token = str(data["access_token"])

    def logout(self) -> None:
        if self._token is None:
            return
        form = urllib.parse.urlencode({"scope": "ovirt-app-api", "token": self._token})
        with contextlib.suppress(VirtStickError):  # else it dies on its own when idle
            self._send("POST", "/ovirt-engine/services/sso-logout", form.encode(),
                       {"Content-Type": "application/x-www-form-urlencoded"}, sso=True)
        self._token = None

    def get(self, path: str, **query: str) -> dict[str, Any]:
        suffix = f"?{urllib.parse.urlencode(query)}" if query else ""
        return self._api("GET", path + suffix)

    def action(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._api("POST", path, json.dumps(body or {}).encode())

    def send(self, method: str, path: str, body: dict[str, Any] | None = None
             ) -> dict[str, Any]:
        """Any other request: ``send("PUT", "/clusters/ID", {...})``."""
        return self._api(method, path, json.dumps(body).encode() if body is not None else None)

    def find_vm(self, name_or_id: str) -> dict[str, Any]:
        """A VM by id, or by exact name."""
        found = self.get("/vms", search=f'name="{name_or_id}"').get("vm", [])
        if found:
            return dict(found[0])
        try:
            return self.get(f"/vms/{urllib.parse.quote(name_or_id)}")
        except NotFound:
            raise NotFound(f"There is no VM named or with id '{name_or_id}'.") from None

    def default_cluster(self) -> dict[str, Any]:
        """The cluster the engine uses when a request names none (the API root says which)."""
        special = self.get("").get("special_objects", {})
        found = special.get("default_cluster") if isinstance(special, dict) else None
        if not isinstance(found, dict) or not found.get("id"):
            raise NotFound("The appliance names no default cluster.")
        return self.get(f"/clusters/{urllib.parse.quote(str(found['id']))}")

    def _api(self, method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
        if self._token is None:
            self.login()
        headers = {"Authorization": f"Bearer {self._token}", "Version": "4",
                   "Content-Type": "application/json"}
        return self._send(method, f"/ovirt-engine/api{path}", body, headers)

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str], *,
              sso: bool = False) -> dict[str, Any]:
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers={"Accept": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=60, context=self._context) as reply:
                text = reply.read().decode()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode(errors="replace")
            if sso:
                return _json(text)
            fault = _json(text).get("fault", _json(text))
            error = _BY_STATUS.get(exc.code, VirtStickError)
            raise error(str(fault.get("detail") or fault.get("reason") or exc.reason)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise ServiceUnreachable(f"Cannot reach {self.base}: {exc}. Is the service "
                                     "running (virtstick serve), and is --url right?") from None
        return _json(text) if text.strip() else {}


def connection_arguments() -> argparse.ArgumentParser:
    """The options of every command that talks to a running appliance (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default=os.environ.get(URL_ENV, "http://127.0.0.1:8080"),
                        help=f"the appliance (default ${URL_ENV} or %(default)s)")
    common.add_argument("--user", default=os.environ.get(USER_ENV, "admin@internal"),
                        help=f"user@internal (default ${USER_ENV} or %(default)s)")
    common.add_argument("--ca-file", help="CA certificate for https (from pki-resource)")
    return common


def connect(args: argparse.Namespace) -> ApiClient:
    """A client for the options of ``connection_arguments``; the password comes from
    ``$VIRTSTICK_PASSWORD`` or a prompt."""
    password = os.environ.get(PASSWORD_ENV) or getpass.getpass(f"Password for {args.user}: ")
    return ApiClient(ClientSettings(url=args.url, username=args.user, password=password,
                                    ca_file=args.ca_file))


def _service_url(url: str) -> str:
    """``url`` as the base of every request, refused in one line if it names no service."""
    hint = "give --url (or $VIRTSTICK_URL) as http://HOST:PORT or https://HOST"
    try:
        parts = urllib.parse.urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise InvalidInput(f"'{url[:200]}' is not a URL ({exc}): {hint}.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"'{url[:200]}' is not an http:// or https:// URL: {hint}.")
    return url.strip().rstrip("/")


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"Cannot use the CA file '{ca_file}': {exc}. Download it with "
                           "curl -o ca.pem 'http://HOST/ovirt-engine/services/pki-resource?"
                           "resource=ca-certificate&format=X509-PEM-CA'.") from None


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        return {"detail": text[:200]}
    return data if isinstance(data, dict) else {"items": data}
