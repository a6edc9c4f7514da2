"""Who is calling: a bearer token from SSO, or HTTP Basic credentials, on every API request.

The engine checks what the actor may do; this only establishes who it is.
"""

from __future__ import annotations

import base64
import binascii

from flask import g, request

from appliance.api import http
from appliance.errors import NotAuthenticated


def authenticate_request() -> None:
    if request.endpoint == "ovirt.api.openapi":
        return  # the API's description is public, as oVirt's /ovirt-engine/api/model is
    users = http.engine().users
    address = request.remote_addr or ""
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        g.actor = users.actor_for_token(credentials.strip(), address=address)
    elif scheme.lower() == "basic" and credentials.strip():
        username, password = _basic(credentials.strip())
        g.actor = users.authenticate(username, password, address=address)
    else:
        raise NotAuthenticated("Log in first: get a token from /ovirt-engine/sso/oauth/token "
                               "and send it as 'Authorization: Bearer <token>', or use HTTP "
                               "Basic authentication.")


def _basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("The Basic credentials are not valid base64 text.") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise NotAuthenticated("The Basic credentials need the form user:password.")
    return username, password
