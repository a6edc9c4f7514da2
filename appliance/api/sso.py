"""oVirt's SSO endpoints as the SDK and Ansible use them: a password grant that answers a
bearer token, and logout. Answers are JSON; failures carry an ``error`` key (the SDK looks
at keys, not at the status)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from appliance.api import http
from appliance.errors import NotAuthenticated, TooManyAttempts, VirtStickError
from appliance.security import certificates

log = logging.getLogger(__name__)


def install(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/sso/oauth/token", view_func=token, methods=["POST"])
    blueprint.add_url_rule("/services/sso-logout", view_func=logout, methods=["POST", "GET"])
    blueprint.add_url_rule("/services/pki-resource", view_func=pki_resource, methods=["GET"])


def token() -> Response:
    form = request.form
    grant_type = form.get("grant_type", "")
    scope = form.get("scope", "ovirt-app-api")
    if grant_type != "password":
        return _error("unsupported_grant_type",
                      f"Grant type '{grant_type[:40]}' is not supported: use 'password'.")
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password:
        return _error("invalid_request", "Both username and password are required.")
    users = http.engine().users
    try:
        actor = users.authenticate(username, password, address=request.remote_addr or "")
    except TooManyAttempts as exc:
        return _error("access_denied", exc.detail, status=429)
    except NotAuthenticated as exc:
        return _error("access_denied", exc.detail)
    issued = users.issue_token(actor)
    expiry_ms = int(users.token_expiry(issued) * 1000)
    return jsonify(access_token=issued, scope=scope, exp=str(expiry_ms), token_type="bearer")


def logout() -> Response:
    value = request.values.get("token", "")
    if not value:
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            value = header[7:].strip()
    if value:
        http.engine().users.revoke(value)
    return jsonify({})


def _error(code: str, message: str, *, status: int = 400) -> Response:
    response = jsonify(error_code=code, error=message)
    response.status_code = status
    return response


def json_error(exc: VirtStickError) -> Response:
    return _error(exc.code, exc.detail, status=exc.status)


def pki_resource() -> Response:
    """The CA certificate clients trust (``ca_file`` of the SDK), as oVirt serves it."""
    resource = request.args.get("resource", "")
    fmt = request.args.get("format", "X509-PEM-CA")
    if resource != "ca-certificate" or fmt not in ("X509-PEM-CA", "X509-PEM"):
        return Response("Only resource=ca-certificate with format=X509-PEM-CA is available.\n",
                        status=400, content_type="text/plain")
    state_dir = http.engine().config.appliance.state_dir
    pem = certificates.ensure(state_dir).ca_cert.read_bytes()
    return Response(pem, content_type="application/x-x509-ca-cert")
