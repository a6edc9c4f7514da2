"""Over HTTPS the page may only open wss://: the console proxy then speaks TLS with the
service's certificate, and the console still shows the guest."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.webui.conftest import VIEWPORT, wait_for_demo_template
from tests.webui.service import ADMIN, Service, start_service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def https_service(demo_disk: Path) -> Iterator[Service]:
    running = start_service(demo_disk, https=True)
    yield running
    running.stop()


def test_console_over_https(browser: Browser, https_service: Service) -> None:
    service = https_service
    # The appliance's own CA is not the browser's: accept it, as an evaluator does once.
    context = browser.new_context(viewport=VIEWPORT,
                                  ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a first start under load takes its time
    page.goto(service.https_url + "/login")
    page.fill("#username", ADMIN)
    page.fill("#password", service.admin_password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/"))  # logged in, still on HTTPS
    template = wait_for_demo_template(page, service, base=service.https_url)
    page.goto(service.https_url + "/admin/vms")
    page.get_by_role("button", name="New VM").click()
    page.fill("#vm-name", "over-tls")
    page.fill("#vm-memory", "128")
    page.locator("#vm-template").select_option(value=template)
    page.get_by_label("Run it once created").check()
    page.locator("dialog#new-vm").get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/admin/vms/[0-9a-f-]+$"))
    vm_id = page.url.rsplit("/", 1)[1]
    service.wait_guest_ready(vm_id)
    with context.expect_page() as opened:
        page.get_by_role("link", name="Console").click()
    console = opened.value
    expect(console.locator("#console-status")).to_contain_text("Connected", timeout=90_000)
    assert console.evaluate("window.location.protocol") == "https:"
    context.close()
