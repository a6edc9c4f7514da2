"""Admin Portal form actions through Flask's client over a real engine: each says how it went
and a refused one changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import html

from appliance.cli import development_config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.grants import ObjectType
from appliance.engine.model import BLANK_TEMPLATE_ID, MiB
from appliance.engine.users import ADMIN_USER_ID
from appliance.engine.vm_provisioning import NewVm
from appliance.engine.vms import VmCreate
from appliance.web import create_app

CSRF = {"csrf_token": "forms-test"}


@pytest.fixture
def engine(state_dir: Path, domain_prefix: str) -> Iterator[Engine]:
    engine = Engine(development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": domain_prefix, "demo_disk": ""}))
    engine.start()
    yield engine
    engine.stop()


@pytest.fixture
def admin(engine: Engine) -> FlaskClient:
    client = create_app(engine).test_client()
    with client.session_transaction() as session:
        session["token"] = engine.users.issue_token(engine.users.actor(ADMIN_USER_ID))
        session["csrf_token"] = CSRF["csrf_token"]
    return client


def test_removing_a_permission_and_a_user(engine: Engine, admin: FlaskClient) -> None:
    user = engine.users.create_user("dora@internal", "a long passphrase 1", actor=SYSTEM)
    vm = engine.vms.create(VmCreate(name="doras", memory=64 * MiB,
                                    cluster_id=engine.clusters.default().id),
                           actor=SYSTEM)
    role = engine.roles.named("UserRole")
    permission = engine.users.grant(user_id=user.id, role_id=role.id,
                                    object_type=ObjectType.VM, object_id=vm.id, actor=SYSTEM)
    page = admin.post(f"/admin/permissions/{permission.id}/delete", data=CSRF,
                      follow_redirects=True).get_data(as_text=True)
    assert "The permission was removed." in page
    assert permission.id not in {p.id for p in engine.users.permissions(actor=SYSTEM)}
    page = admin.post(f"/admin/users/{user.id}/delete", data=CSRF,
                      follow_redirects=True).get_data(as_text=True)
    assert "The user was removed." in page
    assert user.id not in {u.id for u in engine.users.list_users(actor=SYSTEM)}


def test_a_refused_removal_says_why_and_changes_nothing(engine: Engine,
                                                        admin: FlaskClient) -> None:
    before = engine.users.list_users(actor=SYSTEM)
    page = admin.post(f"/admin/users/{ADMIN_USER_ID}/delete", data=CSRF,
                      follow_redirects=True).get_data(as_text=True)
    assert "admin@internal cannot be removed." in page
    assert "was removed" not in page
    assert engine.users.list_users(actor=SYSTEM) == before
    page = admin.post("/admin/isos/no-such-disk/delete", data=CSRF,
                      follow_redirects=True).get_data(as_text=True)
    assert "no-such-disk" in page
    assert "The ISO image was removed." not in page


def test_the_vm_toolbar_runs_each_action(engine: Engine, admin: FlaskClient) -> None:
    vm = engine.vm_provisioning.create(NewVm(name="toolbar", memory=64 * MiB), actor=SYSTEM)
    for action, said, status in [("start", "is starting", VmStatus.UP),
                                 ("pause", "was paused", VmStatus.PAUSED),
                                 ("resume", "was resumed", VmStatus.UP),
                                 ("reboot", "is rebooting", VmStatus.UP),
                                 ("stop", "was powered off", VmStatus.DOWN)]:
        page = admin.post(f"/admin/vms/{vm.id}/action", data={**CSRF, "action": action},
                          follow_redirects=True).get_data(as_text=True)
        assert f"VM toolbar {said}." in page, action
        assert engine.vms.get(vm.id, actor=SYSTEM).status is status, action
    refused = admin.post(f"/admin/vms/{vm.id}/action", data={**CSRF, "action": "stop"},
                         follow_redirects=True).get_data(as_text=True)
    assert "it must be running to power off" in refused and "was powered off" not in refused
    # Only the actions a portal offers: the User Portal has no Pause, neither has "remove".
    assert admin.post(f"/user/vms/{vm.id}/action",
                      data={**CSRF, "action": "pause"}).status_code == 400
    assert admin.post(f"/admin/vms/{vm.id}/action",
                      data={**CSRF, "action": "remove"}).status_code == 400
    assert engine.vms.get(vm.id, actor=SYSTEM).status is VmStatus.DOWN


def test_a_refused_new_vm_says_why_in_its_dialog(engine: Engine, admin: FlaskClient) -> None:
    """A taken name, or more memory than any host has: the dialog opens again with the
    engine's message and what was typed, and no VM is made."""
    engine.vm_provisioning.create(NewVm(name="taken", memory=64 * MiB), actor=SYSTEM)
    huge = str(64 * 1024 * 1024)  # MiB: 64 TiB
    for name, memory, reason in [("taken", "64", "already used by another VM"),
                                 ("huge", huge, "the largest host in its cluster has")]:
        response = admin.post("/admin/vms", data={
            **CSRF, "name": name, "memory_mib": memory, "template_id": BLANK_TEMPLATE_ID,
            "description": "typed by hand", "disk_gib": "3"})
        assert response.status_code == 409, response.get_data(as_text=True)[:300]
        [dialog] = html.fromstring(response.get_data(as_text=True)).xpath(
            "//dialog[@id='new-vm']")
        assert dialog.get("data-open-now") is not None
        assert reason in dialog.xpath(".//*[@role='alert']")[0].text_content()
        typed = {i.get("name"): i.get("value") for i in dialog.xpath(".//input[@value]")}
        assert (typed["name"], typed["memory_mib"], typed["description"], typed["disk_gib"]) \
            == (name, memory, "typed by hand", "3")
    assert sorted(engine.inventory.list_vm_names(actor=SYSTEM).values()) == ["taken"]


@pytest.mark.parametrize("size", ["1e400", "-1e400", "[1]", '"many"', "null"])
def test_an_upload_with_sizes_that_are_no_numbers_is_refused(engine: Engine, admin: FlaskClient,
                                                             size: str) -> None:
    """JSON's 1e400 reads as infinity, which int() cannot take (it answered 500)."""
    before = len(engine.ctx.store.disks.all())
    reply = admin.post("/admin/uploads", headers={"X-CSRF-Token": CSRF["csrf_token"],
                                                 "Accept": "application/json"},
                       data='{"name": "big.iso", "kind": "iso", "file_size": ' + size + "}",
                       content_type="application/json")
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert "sizes in bytes" in reply.get_json()["detail"]
    assert len(engine.ctx.store.disks.all()) == before
