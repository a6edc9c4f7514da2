"""Live pages in the browser: while a VM starts and stops (through another tab), the open
dashboard, the VM's page on a phone and its monitoring charts change with no reload; a VM
action that takes seconds shows it is busy and is not sent twice."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.webui.conftest import VIEWPORT, create_vm, log_in, post
from tests.webui.service import ADMIN, Service

pytestmark = pytest.mark.slow

PHONE: ViewportSize = {"width": 390, "height": 844}
BOOT_SECONDS = 300  # the demo guest boots in seconds under TCG, minutes on a busy machine


@pytest.fixture
def contexts(browser: Browser) -> Iterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    yield made
    for context in made:
        context.close()


def open_page(browser: Browser, service: Service, contexts: list[BrowserContext], path: str,
              *, viewport: ViewportSize = VIEWPORT) -> Page:
    """A logged-in page of its own session, opened at ``path`` with its stream open, and a
    mark that a reload would lose."""
    context = browser.new_context(viewport=viewport)
    contexts.append(context)
    page = context.new_page()
    log_in(page, service, ADMIN, service.admin_password)
    page.goto(service.url + path)
    expect(page.locator("html")).to_have_attribute("data-live", "open", timeout=30_000)
    page.evaluate("window.notReloaded = true")
    return page


# At the Power off click, what the page shows while the request is on its way (kept in
# sessionStorage, which outlives the page), and a second click meanwhile.
WATCH_POWER_OFF = """(vmId) => document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || button.textContent !== "Power off") return;
  if (sessionStorage.getItem("seen")) {
    sessionStorage.setItem("again", String(event.defaultPrevented));
    return;
  }
  const status = document.querySelector(`.page-head [data-vm-status="${vmId}"]`).textContent;
  const busy = button.getAttribute("aria-busy");
  sessionStorage.setItem("seen", JSON.stringify({ busy, status }));
  setTimeout(() => button.click(), 50);
})"""


def not_reloaded(page: Page) -> bool:
    return bool(page.evaluate("window.notReloaded === true"))


def stat(page: Page, name: str) -> int:
    return int(page.locator(f"[data-stat='{name}']").inner_text())


def test_pages_follow_a_vm_that_starts_and_stops_without_a_reload(
        admin_session: Page, browser: Browser, service: Service,
        contexts: list[BrowserContext]) -> None:
    board = open_page(browser, service, contexts, "/admin/")
    up, total = stat(board, "vms_up"), stat(board, "vms_total")
    vm_id = create_vm(admin_session, service, "live-walk")  # in another tab, as it were
    expect(board.locator("[data-stat='vms_total']")).to_have_text(str(total + 1))
    expect(board.locator("[data-live-events] tr").first).to_contain_text("live-walk was created")

    phone = open_page(browser, service, contexts, f"/admin/vms/{vm_id}", viewport=PHONE)
    status = phone.locator(f".page-head [data-vm-status='{vm_id}']")
    expect(status).to_have_text("Down")
    charts = open_page(browser, service, contexts, f"/admin/vms/{vm_id}/monitoring")
    cpu = charts.locator(f"svg[data-chart-object='{vm_id}']").first

    post(admin_session, service, f"/admin/vms/{vm_id}/action", action="start")
    expect(status).to_have_text("Up", timeout=120_000)
    expect(board.locator("[data-stat='vms_up']")).to_have_text(str(up + 1))
    expect(board.locator("[data-live-events] tr", has_text="live-walk was started")
           ).to_be_visible()
    task = board.locator("[data-tasks] .task", has_text="Launching VM live-walk")
    expect(task).to_contain_text("Finished")
    expect(task.locator(".task-times")).to_contain_text(re.compile(r"Ran \d+ s, from "))
    # New statistics arrive every round: the chart gets points of its own, drawn in place.
    expect(cpu).to_have_attribute("data-updated", re.compile(r"\d+"), timeout=60_000)
    assert cpu.locator("polyline[data-key='cpu']").get_attribute("points")
    expect(cpu.locator(".chart-empty")).to_have_count(0)

    service.wait_guest_ready(vm_id, timeout=BOOT_SECONDS)
    post(admin_session, service, f"/admin/vms/{vm_id}/action", action="shutdown")
    expect(status).to_have_text(re.compile("Powering down|Down"))
    expect(status).to_have_text("Down", timeout=120_000)
    expect(board.locator("[data-stat='vms_up']")).to_have_text(str(up))
    expect(board.locator("[data-live-events] tr", has_text="live-walk is down")).to_be_visible()
    assert all(not_reloaded(p) for p in (board, phone, charts))


def test_power_off_shows_it_is_busy_and_is_sent_once(
        admin_session: Page, browser: Browser, service: Service,
        contexts: list[BrowserContext]) -> None:
    vm_id = create_vm(admin_session, service, "busy-off", start=True)
    page = open_page(browser, service, contexts, f"/admin/vms/{vm_id}")
    status = page.locator(f".page-head [data-vm-status='{vm_id}']")
    expect(status).to_have_text("Up", timeout=120_000)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.on("dialog", lambda dialog: dialog.accept())  # a confirmation, where there is one
    page.evaluate(WATCH_POWER_OFF, vm_id)
    page.get_by_role("button", name="More").click()  # Power off is among the rarer actions
    button = page.get_by_role("button", name="Power off", exact=True)
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator(".flash.success")).to_contain_text("busy-off was powered off")
    expect(page.locator(f".page-head [data-vm-status='{vm_id}']")).to_have_text("Down")
    # While the engine worked on it, the button said so and the status what was coming;
    # the second click meanwhile sent nothing.
    seen = json.loads(page.evaluate("sessionStorage.getItem('seen')"))
    assert seen == {"busy": "true", "status": "Powering down"}, seen
    assert page.evaluate("sessionStorage.getItem('again')") == "true"
    assert [u for u in sent if u.endswith("/action")] == [
        f"{service.url}/admin/vms/{vm_id}/action"], sent
