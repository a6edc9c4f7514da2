"""HTTPS with the appliance's own CA: the SDK verifies the server against the CA it
downloads from pki-resource, and the client's address reaches the engine."""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
import urllib.request
from pathlib import Path

import ovirtsdk4 as sdk
import pytest

from tests.api.conftest import ADMIN_PASSWORD, Appliance


def test_sdk_over_https_with_the_ca(appliance: Appliance, tmp_path: Path) -> None:
    reply = appliance.request(
        "GET", "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA")
    assert reply.status == 200
    assert reply.text.startswith("-----BEGIN CERTIFICATE-----")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(reply.text)
    connection = sdk.Connection(url=f"{appliance.https_url}/ovirt-engine/api",
                                username="admin@internal", password=ADMIN_PASSWORD,
                                ca_file=str(ca_file))
    try:
        assert connection.test(raise_exception=True)
        assert connection.system_service().vms_service().list(max=1) is not None
    finally:
        connection.close()


def test_https_refuses_an_unknown_ca(appliance: Appliance) -> None:
    with pytest.raises(sdk.Error):
        sdk.Connection(url=f"{appliance.https_url}/ovirt-engine/api",
                       username="admin@internal", password=ADMIN_PASSWORD).test(
            raise_exception=True)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{appliance.https_url}/health",
                               context=ssl.create_default_context(), timeout=10)


def test_pages_over_https_get_a_secure_cookie_and_guard_headers(appliance: Appliance) -> None:
    parsed = urllib.parse.urlparse(appliance.https_url)
    conn = http.client.HTTPSConnection(parsed.hostname, parsed.port, timeout=30,
                                       context=ssl._create_unverified_context())
    try:
        conn.request("GET", "/login")
        response = conn.getresponse()
        response.read()
        cookie = response.getheader("Set-Cookie") or ""
        assert response.status == 200
        assert "virtstick_session=" in cookie and "Secure" in cookie
        assert response.getheader("X-Frame-Options") == "DENY"
        assert response.getheader("X-Content-Type-Options") == "nosniff"
    finally:
        conn.close()
    plain = appliance.request("GET", "/login")  # localhost: plain HTTP is still served
    assert plain.status == 200 and "Secure" not in plain.headers.get("set-cookie", "")
    assert plain.headers["x-frame-options"] == "DENY"
