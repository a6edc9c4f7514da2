"""The body gate as WSGI middleware in front of Flask (the in-process face of what waitress
asks before buffering; tests/api/test_dos.py drives it through the real service)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.cli import development_config
from appliance.engine.engine import Engine
from appliance.engine.users import ADMIN_USER_ID
from appliance.web import create_app


@pytest.fixture
def engine(state_dir: Path, domain_prefix: str) -> Iterator[Engine]:
    engine = Engine(development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": domain_prefix, "demo_disk": ""}))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return create_app(engine).test_client()


def test_a_login_form_is_small(client: FlaskClient) -> None:
    reply = client.post("/login", data={"username": "admin", "password": "x" * 100_000})
    assert reply.status_code == 413
    assert "the limit for a login form is 16384 bytes" in reply.get_data(as_text=True)


def test_a_body_without_a_length_stops_at_its_limit(client: FlaskClient) -> None:
    reply = client.post("/login", input_stream=io.BytesIO(b"username=" + b"x" * 100_000),
                        headers={"Transfer-Encoding": "chunked",
                                 "Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 413


def test_uploads_need_a_session_before_their_body(engine: Engine, client: FlaskClient) -> None:
    data = b"not an ISO image" * 4096
    reply = client.post("/ovirt-engine/api/storagedomains/any/isoimages?name=x.iso", data=data,
                        headers={"Authorization": "Bearer forged"})
    assert reply.status_code == 401 and "<fault>" in reply.get_data(as_text=True)
    token = engine.users.issue_token(engine.users.actor(ADMIN_USER_ID))
    domain = engine.storage_domains.default().id
    reply = client.post(f"/ovirt-engine/api/storagedomains/{domain}/isoimages?name=x.iso",
                        data=data, headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 400  # read, then refused for what it is
    assert "ISO" in reply.get_data(as_text=True)


def test_api_objects_keep_their_megabyte(engine: Engine, client: FlaskClient) -> None:
    token = engine.users.issue_token(engine.users.actor(ADMIN_USER_ID))
    reply = client.post("/ovirt-engine/api/vms", data=b"<vm>" + b" " * (2 << 20) + b"</vm>",
                        headers={"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/xml"})
    assert reply.status_code == 413
    assert "the limit for an API request is 1048576 bytes" in reply.get_data(as_text=True)


def test_the_portals_take_forms_only(client: FlaskClient) -> None:
    """The Admin Portal uploads through image transfers: no portal route takes an image."""
    reply = client.put("/admin/isos/x.iso", data=b"x" * (1 << 20))
    assert reply.status_code == 413
    assert "the limit for a form is 262144 bytes" in reply.get_data(as_text=True)


def test_the_api_iso_shortcut_takes_small_images_only(engine: Engine,
                                                      client: FlaskClient) -> None:
    token = engine.users.issue_token(engine.users.actor(ADMIN_USER_ID))
    domain = engine.storage_domains.default().id
    reply = client.post(f"/ovirt-engine/api/storagedomains/{domain}/isoimages?name=x.iso",
                        data=b"x" * (17 << 20), headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 413
    assert "larger images go through an image transfer" in reply.get_data(as_text=True)
