"""What every page and API answer gets from the transport: plain HTTP only from this
machine once HTTPS serves, and headers that keep pages out of others' frames and stop
browsers guessing content types.

The stick listens on 0.0.0.0:80 and :443. Over plain HTTP from another machine, passwords
and session cookies would cross the network in clear: pages are sent to HTTPS (308, which
keeps the method), and the API and SSO, whose clients follow no redirect for a POST,
refuse with a fault that names the https:// address. Localhost keeps plain HTTP (the
evaluator's own browser, the tests, remote-viewer's downloads).
"""

from __future__ import annotations

import ipaddress
import re

from flask import Flask, Request, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from appliance.api.faults import fault

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]")
# Liveness probes, and the CA certificate a client fetches before it can trust HTTPS.
_OPEN_ON_PLAIN_HTTP = ("/health", "/ovirt-engine/services/pki-resource")


def install(app: Flask, *, https_listen: str) -> None:
    app.after_request(_secure_headers)
    if https_listen:
        https_port = int(https_listen.rpartition(":")[2])
        app.before_request(lambda: _require_https(request, https_port))


def is_local(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return parsed.is_loopback


def _require_https(req: Request, https_port: int) -> BaseResponse | None:
    if req.is_secure or is_local(req.remote_addr or "") or req.path in _OPEN_ON_PLAIN_HTTP:
        return None
    target = _https_url(req, https_port)
    message = f"Plain HTTP is for this machine only: use {target}"
    if req.path.startswith("/ovirt-engine/api"):
        return fault(403, "Forbidden", message + " (the CA is at /ovirt-engine/services/"
                     "pki-resource?resource=ca-certificate&format=X509-PEM-CA).")
    if req.path.startswith(("/ovirt-engine/sso", "/ovirt-engine/services")):
        response = jsonify(error_code="https_required", error=message)
        response.status_code = 403
        return response
    return redirect(target, code=308)


def _https_url(req: Request, https_port: int) -> str:
    host = _without_port(req.host)
    if not _HOST.fullmatch(host):
        host = req.server[0] if req.server else "localhost"
    port = "" if https_port == 443 else f":{https_port}"
    query = f"?{req.query_string.decode('latin-1')}" if req.query_string else ""
    return f"https://{host}{port}{req.path}{query}"


def _without_port(host: str) -> str:
    if host.startswith("["):  # [2001:db8::1]:80
        return host[:host.find("]") + 1]
    return host.partition(":")[0]


def _secure_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
