"""Plain HTTP from another machine, in-process (the tests' own traffic is all loopback, so
the client's address is set in the WSGI environ): pages go to HTTPS, the API and SSO refuse
with a fault naming the https:// address; localhost and HTTPS are served as they are."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.cli import development_config
from appliance.engine.engine import Engine
from appliance.web import create_app

REMOTE = {"REMOTE_ADDR": "192.0.2.10"}


@pytest.fixture
def engine(state_dir: Path, domain_prefix: str) -> Iterator[Engine]:
    engine = Engine(development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": domain_prefix, "demo_disk": ""},
        http={"https_listen": "127.0.0.1:8443"}))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return create_app(engine).test_client()


def test_pages_over_plain_http_from_elsewhere_go_to_https(client: FlaskClient) -> None:
    reply = client.get("/admin/vms?q=web", base_url="http://stick.example",
                       environ_base=REMOTE)
    assert reply.status_code == 308
    assert reply.headers["Location"] == "https://stick.example:8443/admin/vms?q=web"
    reply = client.post("/login", base_url="http://[2001:db8::5]:80", environ_base=REMOTE)
    assert reply.status_code == 308
    assert reply.headers["Location"].startswith("https://[2001:db8::5]:8443/login")


def test_the_api_over_plain_http_from_elsewhere_is_refused(client: FlaskClient) -> None:
    reply = client.get("/ovirt-engine/api/vms", base_url="http://stick.example",
                       environ_base=REMOTE)
    assert reply.status_code == 403
    text = reply.get_data(as_text=True)
    assert "<fault>" in text and "use https://stick.example:8443/ovirt-engine/api/vms" in text
    reply = client.post("/ovirt-engine/sso/oauth/token", environ_base=REMOTE,
                        data={"grant_type": "password", "username": "admin@internal",
                              "password": "x"})
    assert reply.status_code == 403
    assert json.loads(reply.get_data(as_text=True))["error_code"] == "https_required"


def test_localhost_https_and_probes_are_served(client: FlaskClient) -> None:
    assert client.get("/login").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/login", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/login", base_url="https://stick.example",
                      environ_base=REMOTE).status_code == 200
    assert client.get("/health", environ_base=REMOTE).status_code == 200
    ca = client.get("/ovirt-engine/services/pki-resource?resource=ca-certificate&"
                    "format=X509-PEM-CA", environ_base=REMOTE)
    assert ca.status_code == 200


def test_every_answer_keeps_out_of_frames_and_sniffing(client: FlaskClient) -> None:
    for path in ("/login", "/ovirt-engine/api", "/health", "/nowhere"):
        headers = client.get(path).headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


def test_the_session_cookie_is_secure_over_https(client: FlaskClient) -> None:
    plain = client.get("/login").headers.get("Set-Cookie", "")
    secure = client.get("/login", base_url="https://stick.example").headers["Set-Cookie"]
    assert "virtstick_session=" in plain and "Secure" not in plain
    assert "virtstick_session=" in secure and "Secure" in secure
