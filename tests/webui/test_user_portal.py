"""The User Portal: a UserRole user sees and drives only the VMs given to them."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.webui.conftest import VIEWPORT, create_vm, csrf, log_in, post, shot
from tests.webui.service import Service

PASSWORD = "alice-password-1"


@pytest.mark.slow
def test_user_sees_only_their_vms(admin_session: Page, service: Service,
                                  browser: Browser) -> None:
    mine = create_vm(admin_session, service, "alice-vm")
    other = create_vm(admin_session, service, "someone-elses-vm")
    post(admin_session, service, "/admin/users", name="alice", password=PASSWORD,
         role="UserRole", email="alice@example.org")
    admin_session.goto(service.url + "/admin/users")
    row = admin_session.locator("[data-user-row='alice@internal']")
    user_form = row.locator("form", has=admin_session.locator("select[name=vm_id]"))
    user_form.locator("select").select_option(label="alice-vm")
    user_form.get_by_role("button", name="Give VM").click()
    expect(admin_session.locator(".flash.success")).to_contain_text("permission was given")
    expect(row).to_contain_text("UserRole on VM alice-vm")
    shot(admin_session, "users")

    context = browser.new_context(viewport=VIEWPORT)
    alice = context.new_page()
    log_in(alice, service, "alice@internal", PASSWORD)
    assert alice.url.endswith("/user/")
    expect(alice.locator(f"[data-vm-row='{mine}']")).to_be_visible()
    expect(alice.locator(f"[data-vm-row='{other}']")).to_have_count(0)
    expect(alice.get_by_role("link", name="Admin Portal")).to_have_count(0)
    shot(alice, "user-portal")

    # The Admin Portal sends her back; someone else's VM does not exist for her.
    alice.goto(service.url + "/admin/vms")
    assert alice.url.endswith("/user/")
    assert alice.request.get(service.url + f"/user/vms/{other}").status == 404
    refused = alice.request.post(service.url + f"/user/vms/{other}/action",
                                 form={"csrf_token": csrf(alice), "action": "start"})
    assert refused.ok and "There is no VM" in refused.text()  # her list, with the refusal
    # Her own VM: its page, and a snapshot taken from the User Portal.
    alice.goto(service.url + f"/user/vms/{mine}")
    alice.get_by_label("Snapshot description").fill("before the lab")
    alice.get_by_role("button", name="Take snapshot").click()
    expect(alice.locator(".flash.success")).to_contain_text("snapshot")
    expect(alice.locator("section", has_text="Snapshots")).to_contain_text("before the lab",
                                                                          timeout=30_000)
    shot(alice, "user-vm")
    alice.once("dialog", lambda d: d.accept())
    alice.get_by_role("button", name="Restore").click()
    expect(alice.locator(".flash.success")).to_contain_text("restored to the snapshot")
    alice.goto(service.url + "/user/")
    status = alice.request.get(service.url + "/status/vms.json").json()
    assert [vm["id"] for vm in status["vms"]] == [mine]
    context.close()
