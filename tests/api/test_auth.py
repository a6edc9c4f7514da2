"""SSO tokens, logout, idle expiry, HTTP Basic, and throttled logins."""

from __future__ import annotations

import time
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from appliance.engine.clock import ManualClock
from appliance.engine.engine import Engine
from tests.api.conftest import ADMIN_PASSWORD, Appliance, unique
from tests.monitoring.conftest import ADMIN_PASSWORD as MONITORING_PASSWORD
from tests.monitoring.conftest import make_config, serve

API = "/ovirt-engine/api"


def _fault(text: str) -> tuple[str, str]:
    root = ET.fromstring(text)
    assert root.tag == "fault", text
    return root.findtext("reason") or "", root.findtext("detail") or ""


def test_token_grant_shape(appliance: Appliance) -> None:
    reply = appliance.login("admin@internal", ADMIN_PASSWORD)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    data = reply.json()
    assert isinstance(data, dict)
    assert data["token_type"] == "bearer" and data["scope"] == "ovirt-app-api"
    assert int(data["exp"]) > time.time() * 1000


def test_wrong_password_is_an_sso_error(appliance: Appliance) -> None:
    reply = appliance.login("admin@internal", "wrong-password")
    assert reply.status == 400
    data = reply.json()
    assert isinstance(data, dict) and data["error_code"] == "access_denied"
    assert "incorrect" in data["error"]
    with pytest.raises(sdk.AuthError):
        appliance.connect(password="wrong-password").test(raise_exception=True)


def test_missing_and_bad_tokens_get_401_faults(appliance: Appliance) -> None:
    reply = appliance.request("GET", API)
    assert reply.status == 401
    reason, detail = _fault(reply.text)
    assert reason == "Unauthorized" and "Log in first" in detail
    reply = appliance.request("GET", API, token="not-a-token")
    assert reply.status == 401
    assert "expired or revoked" in _fault(reply.text)[1]


def test_basic_authentication(appliance: Appliance) -> None:
    assert appliance.request("GET", API, basic=("admin@internal", ADMIN_PASSWORD)).status == 200
    assert appliance.request("GET", API, basic=("admin@internal", "nope")).status == 401


def test_logout_kills_the_token(appliance: Appliance) -> None:
    token = appliance.token()
    assert appliance.request("GET", f"{API}/vms", token=token).status == 200
    form = urllib.parse.urlencode({"scope": "ovirt-app-api", "token": token})
    reply = appliance.request("POST", "/ovirt-engine/services/sso-logout", form, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
    assert reply.status == 200 and "error" not in reply.text
    assert appliance.request("GET", f"{API}/vms", token=token).status == 401


def test_sdk_close_logs_out(appliance: Appliance) -> None:
    connection = appliance.connect()
    token = connection.authenticate()
    assert appliance.request("GET", API, token=token).status == 200
    connection.close()
    assert appliance.request("GET", API, token=token).status == 401


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def clocked(state_dir: Path, domain_prefix: str, clock: ManualClock) -> Iterator[Appliance]:
    """The application in this process over an engine whose clock the test moves."""
    engine = Engine(make_config(state_dir, domain_prefix), clock=clock)
    engine.start()
    try:
        for served in serve(engine):
            yield Appliance(url=served.url, https_url="", state_dir=state_dir,
                            config=engine.config, prefix=domain_prefix)
    finally:
        engine.stop()


def test_idle_token_expires_but_use_keeps_it_alive(clocked: Appliance,
                                                   clock: ManualClock) -> None:
    idle = clocked.config.auth.token_idle_minutes * 60
    kept, dropped = (clocked.token(password=MONITORING_PASSWORD) for _ in range(2))
    for _ in range(5):  # 1.25 idle periods in all
        assert clocked.request("GET", API, token=kept).status == 200
        clock.advance(idle / 4)
    reply = clocked.request("GET", API, token=dropped)
    assert reply.status == 401
    assert "expired" in _fault(reply.text)[1]
    assert clocked.request("GET", API, token=kept).status == 200


def test_repeated_failures_throttle_that_user(appliance: Appliance,
                                              admin: sdk.Connection) -> None:
    users = admin.system_service().users_service()
    name = unique("guess")
    user = users.add(types.User(user_name=f"{name}@internal", password="right-password"))
    try:
        for _ in range(5):
            assert appliance.login(f"{name}@internal", "wrong").status == 400
        reply = appliance.login(f"{name}@internal", "right-password")
        assert reply.status == 429
        data = reply.json()
        assert isinstance(data, dict) and "Too many failed logins" in data["error"]
        # Others are not locked out.
        assert appliance.login("admin@internal", ADMIN_PASSWORD).status == 200
    finally:
        users.user_service(user.id).remove()
