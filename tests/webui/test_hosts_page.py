"""Hosts page: maintenance and activation of the local host, with the job's progress shown.
Its own service, so no other test's VMs are moved off the host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.webui.conftest import VIEWPORT, log_in, shot
from tests.webui.service import ADMIN, Service, start_service


@pytest.fixture(scope="module")
def own_service(demo_disk: Path) -> Iterator[Service]:
    running = start_service(demo_disk)
    yield running
    running.stop()


def test_host_maintenance_and_activate(browser: Browser, own_service: Service) -> None:
    service = own_service
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    log_in(page, service, ADMIN, service.admin_password)
    page.goto(service.url + "/admin/hosts")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Up")
    row.get_by_role("button", name="Maintenance").click()
    expect(page.locator(".flash.success")).to_contain_text("going to maintenance")
    for _ in range(30):
        page.goto(service.url + "/admin/hosts")
        if "Maintenance" in page.locator("tbody tr").first.locator(".status").inner_text():
            break
        page.wait_for_timeout(1000)
    row = page.locator("tbody tr").first
    expect(row.locator(".status")).to_have_text("Maintenance")
    page.goto(service.url + "/admin/jobs")
    expect(page.locator("tr", has_text="to maintenance").first).to_contain_text("Finished")
    page.goto(service.url + "/admin/hosts")
    shot(page, "admin-hosts-maintenance")
    page.locator("tbody tr").first.get_by_role("button", name="Activate").click()
    expect(page.locator(".flash.success")).to_contain_text("was activated")
    expect(page.locator("tbody tr").first.locator(".status")).to_have_text("Up")
    context.close()
