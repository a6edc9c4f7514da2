"""HTTPS with the appliance's own CA: the SDK verifies the server against the CA it
downloads from pki-resource, and the client's address reaches the engine."""

from __future__ import annotations

import asyncio
import http.client
import ssl
import threading
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
    conn = http.client.HTTPSConnection(parsed.netloc, timeout=30,
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


def test_pipelined_requests_over_https_all_get_whole_answers(appliance: Appliance) -> None:
    """Requests keep arriving while answers leave, on one TLS connection: the front reads
    and writes it at the same time (an SSL object read by one thread while another writes
    it once made clients see "bad record mac")."""
    parsed = urllib.parse.urlparse(appliance.https_url)
    count = 600
    request = (f"GET /health HTTP/1.1\r\nHost: {parsed.hostname}\r\n\r\n").encode()

    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(
            parsed.hostname, parsed.port, ssl=ssl._create_unverified_context())

        async def send() -> None:
            for _ in range(count):
                writer.write(request)  # one TLS record each, while answers stream back
                await writer.drain()
                await asyncio.sleep(0)

        sending = asyncio.ensure_future(send())
        received = b""
        while received.count(b'"status":"ok"') < count:  # the last body may trail its head
            chunk = await asyncio.wait_for(reader.read(65536), timeout=60)
            if not chunk:
                break
            received += chunk
        await sending
        writer.close()
        return received

    received = asyncio.run(exchange())
    assert received.count(b"HTTP/1.1 200") == count
    assert received.count(b'"status":"ok"') == count


def test_many_kept_alive_https_clients_at_once_get_whole_answers(appliance: Appliance) -> None:
    """Requests and answers cross the TLS front in both directions at once on every
    connection; each answer must arrive whole (an SSL object read by one thread while another
    writes it once made clients see "bad record mac" under load)."""
    parsed = urllib.parse.urlparse(appliance.https_url)
    failures: list[str] = []

    def client() -> None:
        conn = http.client.HTTPSConnection(parsed.netloc, timeout=60,
                                           context=ssl._create_unverified_context())
        try:
            for _ in range(40):
                conn.request("GET", "/health")
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or b'"ok"' not in body:
                    failures.append(f"{response.status} {body[:80]!r}")
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=client) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
