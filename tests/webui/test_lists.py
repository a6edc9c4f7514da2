"""The VM list in chromium at 1366x768: sorting by a column (the server's order, announced by
aria-sort), ticking VMs for bulk Run and Remove (asked first, each VM's result shown), the
message when the filter hides every row, and the resource tree beside it (folding, and
opening the list of one host); the events page names each event's VM."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from appliance.engine.model import BLANK_TEMPLATE_ID
from tests.webui.conftest import post, shot
from tests.webui.service import Service

pytestmark = pytest.mark.slow


def _blank_vm(page: Page, service: Service, name: str, memory: int) -> str:
    url = post(page, service, "/admin/vms", name=name, template_id=BLANK_TEMPLATE_ID,
               memory_mib=str(memory), disk_gib="0", vnic_profile_id="")
    return url.rsplit("/", 1)[1]


def test_sort_tick_and_act_on_many(admin: Page, service: Service) -> None:
    page = admin
    ids = {name: _blank_vm(page, service, name, memory)
           for name, memory in (("list-b", 96), ("list-a", 32), ("list-c", 64))}
    page.goto(service.url + "/admin/vms?q=list-")
    table = page.locator("#vm-table")
    names = table.locator("tbody tr[data-vm-row] td:nth-child(2) a")
    expect(names).to_have_text(["list-a", "list-b", "list-c"])
    expect(table.locator("th[aria-sort]")).to_have_text("Name▲")

    table.get_by_role("link", name="Memory").click()
    expect(names).to_have_text(["list-a", "list-c", "list-b"])
    memory = table.locator("th", has_text="Memory")
    expect(memory).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#vm-search")).to_have_value("list-")  # the search is kept
    table.get_by_role("link", name="Memory").click()
    expect(memory).to_have_attribute("aria-sort", "descending")
    expect(names).to_have_text(["list-b", "list-c", "list-a"])
    shot(page, "vms-sorted")

    bar = page.get_by_role("toolbar", name="Actions on the ticked VMs")
    expect(bar.get_by_role("button", name="Run")).to_be_disabled()
    page.get_by_label("Tick list-a").check()
    page.get_by_label("Tick list-b").check()
    expect(bar).to_contain_text("2 VMs ticked")
    bar.get_by_role("button", name="Run").click()
    results = page.locator(".bulk-results")
    expect(results).to_contain_text("2 of 2 done")
    expect(results.locator("[data-result='list-a']")).to_contain_text("is starting")
    expect(results.locator("[data-result='list-b']")).to_contain_text("is starting")

    # list-a is running now: removing it and list-c says so for one and does the other.
    page.goto(service.url + "/admin/vms?q=list-")
    page.get_by_label("Tick list-a").check()
    page.get_by_label("Tick list-c").check()
    bar.get_by_role("button", name="Remove…").click()
    confirm = page.locator("dialog#bulk-remove")
    expect(confirm).to_be_visible()
    expect(confirm.locator("li")).to_have_text(["list-a", "list-c"])
    shot(page, "bulk-remove-confirm")
    confirm.get_by_role("button", name="Remove").click()
    expect(results).to_contain_text("1 of 2 done")
    expect(results.locator("[data-result='list-a']")).to_contain_text("must be down")
    expect(results.locator("[data-result='list-c']")).to_contain_text("was removed")
    expect(page.locator(f"[data-vm-row='{ids['list-c']}']")).to_have_count(0)
    shot(page, "bulk-results")

    page.goto(service.url + "/admin/vms?q=list-")
    page.get_by_label("Tick every VM on this page").check()
    bar.get_by_role("button", name="Shut down").click()
    expect(results).to_contain_text("2 of 2 done")  # list-a and list-b were running
    for vm_id in (ids["list-a"], ids["list-b"]):
        post(page, service, f"/admin/vms/{vm_id}/action", action="stop")


def test_no_match_message_and_resource_tree(admin: Page, service: Service) -> None:
    page = admin
    vm_id = _blank_vm(page, service, "tree-leaf", 32)
    page.goto(service.url + "/admin/vms")
    page.fill("#vm-search", "no-vm-is-called-this")
    expect(page.locator("[data-no-match]")).to_be_visible()
    expect(page.locator("[data-no-match]")).to_contain_text("No VM on this page matches")
    page.fill("#vm-search", "tree-leaf")
    expect(page.locator("[data-no-match]")).to_be_hidden()
    page.press("#vm-search", "Enter")  # every VM, on the server
    expect(page.locator("#vm-table tbody tr[data-vm-row]")).to_have_count(1)
    page.fill("#vm-search", "nothing-at-all")
    page.press("#vm-search", "Enter")
    expect(page.locator("#vm-table")).to_contain_text("No VM matches “nothing-at-all”.")

    page.goto(service.url + "/admin/vms")
    tree = page.get_by_role("navigation", name="Resource tree")
    leaf = tree.locator(f"[data-tree-vm='{vm_id}']")
    idle = tree.locator("summary", has_text="Not running").last
    if not idle.evaluate("(s) => s.parentElement.open"):  # a branch of many VMs starts folded
        idle.click()
    expect(leaf).to_be_visible()
    idle.click()  # folds
    expect(leaf).to_be_hidden()
    idle.click()
    expect(leaf).to_be_visible()
    shot(page, "resource-tree")
    host = tree.locator("summary", has_text="Host").first.get_by_role("link")
    host_name = host.inner_text()
    host.click()
    expect(page).to_have_url(re.compile(r"/admin/vms\?host="))
    for cell in page.locator("#vm-table tbody tr[data-vm-row] td[data-vm-host]").all():
        expect(cell).to_have_text(host_name)
    leaf = page.get_by_role("navigation", name="Resource tree").locator(
        f"[data-tree-vm='{vm_id}']")
    leaf.click()
    expect(page.locator("main h1")).to_have_text("tree-leaf")

    page.goto(service.url + "/admin/events?q=tree-leaf")
    row = page.locator("tbody tr", has_text="tree-leaf was created")
    expect(row.get_by_role("link", name="tree-leaf")).to_have_attribute(
        "href", f"/admin/vms/{vm_id}")
