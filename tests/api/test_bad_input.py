"""Hostile or wrong requests: each gets its status and a <fault> a person understands, and
nothing changes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique

API = "/ovirt-engine/api"
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<vm><name>&lol3;</name></vm>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE vm [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<vm><name>&secret;</name></vm>"""


@pytest.fixture(scope="module")
def token(appliance: Appliance) -> str:
    return appliance.token()


@pytest.fixture
def unchanged(appliance: Appliance) -> Iterator[None]:
    before = appliance.request("GET", f"{API}/vms", basic=_admin()).text
    yield
    assert appliance.request("GET", f"{API}/vms", basic=_admin()).text == before


def _admin() -> tuple[str, str]:
    from tests.api.conftest import ADMIN_PASSWORD

    return ("admin@internal", ADMIN_PASSWORD)


def _fault(text: str, tag: str = "fault") -> tuple[str, str]:
    root = ET.fromstring(text)
    assert root.tag == tag, text
    fault = root if tag == "fault" else root.find("fault")
    assert fault is not None, text
    return fault.findtext("reason") or "", fault.findtext("detail") or ""


@pytest.mark.parametrize(("body", "status", "words"), [
    ("<vm><name>x</name>", 400, "not well-formed XML"),
    (BILLION_LAUGHS, 400, "DTD or entities"),
    (EXTERNAL_ENTITY, 400, "DTD or entities"),
    ("<vm><name>bad1</name><bogus>1</bogus></vm>", 400, "no element <bogus>"),
    ("<vm><name>bad2</name><memory>lots</memory></vm>", 400, "must be a whole number"),
    ("<vm><name>bad3</name><high_availability><enabled>maybe</enabled></high_availability>"
     "</vm>", 400, "true or false"),
    ("<vm><name>bad4</name><display><type>rdp</type></display></vm>", 400, "must be one of"),
    ("<template><name>x</name></template>", 400, "Expected a <vm>"),
    ("<vm><name>bad5</name><cluster id='no-such-cluster'/></vm>", 404, "no cluster"),
    ("<vm><name>bad6</name><template><name>NoSuch</name></template></vm>", 404,
     "no template named"),
    ("<vm><name>../../etc</name></vm>", 400, "not a valid VM name"),
    ("<vm><description>no name</description></vm>", 400, "needs a <name>"),
    ("", 400, "needs a <vm> body"),
    ("<vm>" + "<a>" * 50000 + "</a>" * 50000 + "</vm>", 400, "nests deeper than"),
])
def test_bad_vm_bodies(appliance: Appliance, token: str, unchanged: None, body: str,
                       status: int, words: str) -> None:
    reply = appliance.request("POST", f"{API}/vms", body, token=token)
    assert reply.status == status, reply.text
    reason, detail = _fault(reply.text)
    assert reason and words in detail


def test_deeply_nested_json_is_refused(appliance: Appliance, token: str,
                                       unchanged: None) -> None:
    for depth in (40, 100000):
        body = '{"name": "deep", "description": ' + "[" * depth + "]" * depth + "}"
        reply = appliance.request("POST", f"{API}/vms", body, token=token, headers={
            "Content-Type": "application/json", "Accept": "application/json"})
        assert reply.status == 400, reply.text
        assert "nests deeper than" in json.loads(reply.text)["detail"]


def test_body_over_the_limit(appliance: Appliance, token: str, unchanged: None) -> None:
    body = "<vm><name>big</name><description>" + "x" * (2 * 1024 * 1024) + \
        "</description></vm>"
    reply = appliance.request("POST", f"{API}/vms", body, token=token)
    assert reply.status == 413
    assert "limit" in _fault(reply.text)[1]


def test_unknown_ids_and_paths(appliance: Appliance, token: str) -> None:
    for path in (f"{API}/vms/no-such-vm", f"{API}/vms/no-such-vm/nics", f"{API}/hosts/x",
                 f"{API}/nowhere", f"{API}/vms/no-such-vm/snapshots/x"):
        reply = appliance.request("GET", path, token=token)
        assert reply.status == 404, path
        assert _fault(reply.text)[0] == "Not Found"
    reply = appliance.request("DELETE", f"{API}/vms/no-such-vm", token=token)
    assert reply.status == 404
    reply = appliance.request("PATCH", f"{API}/vms", token=token)
    assert reply.status == 405 and "not allowed" in _fault(reply.text)[1]


def test_event_ids_beyond_the_store_are_not_found(appliance: Appliance, token: str) -> None:
    """Past 64 bits or in digits other than ASCII ones, an event id used to answer 500."""
    for event_id in ("99999999999999999999999", "%C2%B2", "-1"):
        reply = appliance.request("GET", f"{API}/events/{event_id}", token=token)
        assert reply.status == 404, (event_id, reply.text)
        assert _fault(reply.text)[0] == "Not Found"
    for since in ("99999999999999999999999", "%C2%B2"):
        reply = appliance.request("GET", f"{API}/events?max=1&from={since}", token=token)
        assert reply.status == 200, (since, reply.text)
        assert ET.fromstring(reply.text).tag == "events"


def test_action_faults_take_the_action_form(appliance: Appliance, admin: sdk.Connection,
                                            token: str) -> None:
    vm = admin.system_service().vms_service().add(types.Vm(
        name=unique("down"), template=types.Template(name="Blank"),
        cluster=types.Cluster(name="Default"), memory=64 * 1024 * 1024))
    try:
        reply = appliance.request("POST", f"{API}/vms/{vm.id}/shutdown", "<action/>",
                                  token=token)
        assert reply.status == 409
        root = ET.fromstring(reply.text)
        assert root.tag == "action" and root.findtext("status") == "failed"
        assert "must be running" in _fault(reply.text, "action")[1]
        reply = appliance.request("POST", f"{API}/vms/{vm.id}/start",
                                  "<action><warp>9</warp></action>", token=token)
        assert reply.status == 400 and "no element <warp>" in _fault(reply.text, "action")[1]
        assert admin.system_service().vms_service().vm_service(vm.id).get().status == \
            types.VmStatus.DOWN
    finally:
        admin.system_service().vms_service().vm_service(vm.id).remove()


def test_bad_search_and_query_parameters(appliance: Appliance, token: str) -> None:
    for query, words in (("search=colour%3Dblue", "Cannot search by 'colour'"),
                         ("search=name%3D", "expected field=value"),
                         ("max=many", "whole number"),
                         ("follow=everything", "Cannot follow")):
        reply = appliance.request("GET", f"{API}/vms?{query}", token=token)
        assert reply.status == 400, query
        assert words in _fault(reply.text)[1], reply.text


def test_json_representation(appliance: Appliance, token: str) -> None:
    reply = appliance.request("GET", f"{API}/clusters", token=token,
                              headers={"Accept": "application/json"})
    assert reply.headers["content-type"].startswith("application/json")
    data = json.loads(reply.text)
    assert [c["name"] for c in data["cluster"]] == ["Default"]
    reply = appliance.request("GET", f"{API}/vms/nope", token=token,
                              headers={"Accept": "application/json"})
    assert reply.status == 404 and json.loads(reply.text)["reason"] == "Not Found"
    body = json.dumps({"name": unique("jsonvm"), "memory": 67108864,
                       "template": {"name": "Blank"}})
    reply = appliance.request("POST", f"{API}/vms", body, token=token, headers={
        "Content-Type": "application/json", "Accept": "application/json"})
    assert reply.status == 201, reply.text
    created = json.loads(reply.text)
    assert created["memory"] == "67108864" and reply.headers["location"] == created["href"]
    assert appliance.request("DELETE", created["href"], token=token).status == 200


def test_user_role_cannot_reach_others(appliance: Appliance, admin: sdk.Connection) -> None:
    users = admin.system_service().users_service()
    name = unique("mallory")
    user = users.add(types.User(user_name=f"{name}@internal", password="mallory-password"))
    vm = admin.system_service().vms_service().add(types.Vm(
        name=unique("victim"), template=types.Template(name="Blank"),
        cluster=types.Cluster(name="Default"), memory=64 * 1024 * 1024))
    try:
        creds = (f"{name}@internal", "mallory-password")
        cdrom = f"{API}/vms/{vm.id}/cdroms/00000000-0000-0000-0000-000000000000"
        for method, path, body in (
                ("GET", f"{API}/vms/{vm.id}", None),
                ("POST", f"{API}/vms/{vm.id}/start", "<action/>"),
                ("DELETE", f"{API}/vms/{vm.id}", None),
                ("PUT", cdrom, "<cdrom><file id=''/></cdrom>"),
                ("POST", f"{API}/vms/{vm.id}/clone", "<action><vm><name>copy</name></vm>"
                 "</action>"),
                ("POST", f"{API}/vms/{vm.id}/snapshots",
                 "<snapshot><description>s</description></snapshot>"),
                ("GET", f"{API}/vms/{vm.id}/snapshots", None)):
            reply = appliance.request(method, path, body, basic=creds)
            assert reply.status == 404, (method, path, reply.text)
            assert vm.name not in reply.text, (method, path, reply.text)
        reply = appliance.request("POST", f"{API}/users",
                                  "<user><user_name>x@internal</user_name>"
                                  "<password>xxxxxxxxxx</password></user>", basic=creds)
        assert reply.status == 403 and "SuperUser" in _fault(reply.text)[1]
        reply = appliance.request("POST", f"{API}/vms/{vm.id}/permissions",
                                  "<permission><role><name>UserRole</name></role>"
                                  f"<user id='{user.id}'/></permission>", basic=creds)
        assert reply.status == 404
        assert admin.system_service().vms_service().vm_service(vm.id).get().status == \
            types.VmStatus.DOWN
    finally:
        admin.system_service().vms_service().vm_service(vm.id).remove()
        users.user_service(user.id).remove()
