"""The Admin Portal's monitoring pages on a real engine: charts, reports and their
downloads, the events filters and the audit log (Flask's client, logged in as admin)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from flask.testing import FlaskClient
from lxml import html

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.model import BLANK_TEMPLATE_ID, MiB
from appliance.engine.vms import VmCreate
from appliance.errors import PermissionDenied
from appliance.web import create_app
from tests.monitoring.conftest import ADMIN_PASSWORD

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def _admin(engine: Engine) -> FlaskClient:
    client = create_app(engine).test_client()
    admin = engine.users.authenticate("admin@internal", ADMIN_PASSWORD)
    with client.session_transaction() as session:
        session["token"] = engine.users.issue_token(admin)
    return client


def _page(client: FlaskClient, url: str) -> html.HtmlElement:
    response = client.get(url, environ_base=LOCAL)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html.fromstring(response.get_data(as_text=True))


def test_monitoring_page_draws_the_hosts_and_storage(engine: Engine) -> None:
    engine.monitor.wait_rounds(3)
    page = _page(_admin(engine), "/admin/monitoring?period=hour")
    svgs = page.xpath("//svg")
    assert len(svgs) >= 5  # 4 per host, 1 per storage domain
    assert page.xpath("//svg//polyline"), "history must give the charts lines"
    assert _admin(engine).get("/admin/monitoring?period=year",
                              environ_base=LOCAL).status_code == 400


def test_reports_download_as_csv_and_json(engine: Engine) -> None:
    cluster = engine.clusters.default()
    admin = engine.users.authenticate("admin@internal", ADMIN_PASSWORD)
    engine.vms.create(VmCreate(name="reported", cluster_id=cluster.id, memory=64 * MiB),
                      actor=admin)
    engine.monitor.wait_rounds(2)
    client = _admin(engine)
    rows = _page(client, "/admin/reports?report=vm_usage&period=day").xpath("//tbody/tr")
    assert "reported" in rows[0].text_content()
    response = client.get("/admin/reports?report=vm_usage&period=day&format=csv",
                          environ_base=LOCAL)
    assert response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert (row["name"], row["uptime_seconds"]) == ("reported", "0")  # it never ran
    growth = json.loads(client.get("/admin/reports?report=storage_growth&period=hour&"
                                   "format=json", environ_base=LOCAL).get_data(as_text=True))
    assert growth["report"] == "storage_growth"
    assert {r["name"] for r in growth["rows"]} >= {"ram"}


def test_events_filter_and_the_audit_log_shows_a_denial(engine: Engine) -> None:
    engine.events.record(EventCode.STORAGE_LOW, "Storage is nearly full.",
                         severity=EventSeverity.ERROR)
    engine.events.record(EventCode.VM_CREATED, "Just a note.")
    with pytest.raises(PermissionDenied):
        engine.templates.remove(BLANK_TEMPLATE_ID,
                                actor=Actor(user_id="eve", name="eve@internal",
                                            address="192.0.2.66"))
    client = _admin(engine)
    text = _page(client, "/admin/events?severity=warning&period=hour").text_content()
    assert "nearly full" in text and "Just a note" not in text
    assert "Just a note" in _page(client, "/admin/events?q=note").text_content()
    audit = _page(client, "/admin/audit?result=denied").text_content()
    assert "eve@internal" in audit and "192.0.2.66" in audit and "template.remove" in audit


def test_a_user_sees_the_charts_of_their_own_vms_only(engine: Engine) -> None:
    admin = engine.users.authenticate("admin@internal", ADMIN_PASSWORD)
    user = engine.users.create_user("carol", "carol-password-1", actor=admin)
    carol = engine.users.actor(user.id)
    cluster = engine.clusters.default()
    mine = engine.vms.create(VmCreate(name="carols", cluster_id=cluster.id, memory=64 * MiB),
                             actor=carol)
    other = engine.vms.create(VmCreate(name="admins", cluster_id=cluster.id, memory=64 * MiB),
                              actor=admin)
    client = create_app(engine).test_client()
    with client.session_transaction() as session:
        session["token"] = engine.users.issue_token(carol)
    page = _page(client, f"/user/vms/{mine.id}/monitoring")
    assert len(page.xpath("//svg")) == 4 and "carols" in page.text_content()
    assert client.get(f"/user/vms/{other.id}/monitoring",
                      environ_base=LOCAL).status_code == 404
