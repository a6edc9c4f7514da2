"""Migrating a running VM to a host chosen in its dialog, and maintenance of the last host
asking first: on a service of its own with a lab host started from the Hosts page (real
namespaces and a libvirtd of its own), torn down with the service."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from appliance.vdsm.labhost import Lab
from tests.webui.conftest import VIEWPORT, create_vm, log_in, shot
from tests.webui.service import ADMIN, Service, start_service

pytestmark = pytest.mark.slow

LONG = 180_000  # ms


@pytest.fixture(scope="module")
def lab_service(demo_disk: Path) -> Iterator[Service]:
    running = start_service(demo_disk)
    yield running
    running.process.terminate()
    with contextlib.suppress(Exception):
        running.process.wait(20)
    # The service leaves lab hosts running, as other machines' hosts would: end them here.
    Lab(running.state_dir / "lab", token="").teardown()
    running.stop()


@pytest.fixture
def lab_admin(browser: Browser, lab_service: Service) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    log_in(page, lab_service, ADMIN, lab_service.admin_password)
    yield page
    context.close()


def test_the_last_host_asks_before_maintenance(lab_admin: Page, lab_service: Service) -> None:
    page, service = lab_admin, lab_service
    vm_id = create_vm(page, service, "keeps-busy", start=True)
    page.goto(service.url + "/admin/hosts")
    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.locator("tbody tr").first.get_by_role("button", name="Maintenance").click()
    page.wait_for_timeout(500)
    assert asked and "is the last host up" in asked[0] and "shuts it down" in asked[0]
    expect(page.locator("tbody tr").first.locator(".status")).to_have_text("Up")
    page.goto(service.url + f"/admin/vms/{vm_id}")
    expect(page.locator(f".page-head [data-vm-status='{vm_id}']")).to_have_text("Up")


def test_migrate_to_the_chosen_host(lab_admin: Page, lab_service: Service) -> None:
    page, service = lab_admin, lab_service
    page.goto(service.url + "/admin/hosts")
    page.fill("#lab-name", "lab-target")
    page.fill("#lab-memory", "768")
    page.get_by_role("button", name="Start lab host").click()
    expect(page.locator(".flash.success")).to_contain_text("Lab host lab-target is up",
                                                          timeout=LONG)
    vm_id = create_vm(page, service, "to-move", start=True)
    page.goto(service.url + f"/admin/vms/{vm_id}")
    status = page.locator(f".page-head [data-vm-status='{vm_id}']")
    expect(status).to_have_text("Up", timeout=LONG)
    source = page.locator(f"[data-vm-host='{vm_id}']").inner_text()
    page.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Migrate…").click()
    dialog = page.locator("dialog#migrate-vm")
    option = dialog.locator("option", has_text="lab-target")
    dialog.locator("select").select_option(value=option.get_attribute("value"))
    shot(page, "migrate-dialog")
    dialog.get_by_role("button", name="Migrate").click()
    expect(page.locator(".flash.success")).to_contain_text("is migrating")
    # The host changes on the page by itself once the migration is done.
    expect(page.locator(f"[data-vm-host='{vm_id}']")).to_have_text("lab-target", timeout=LONG)
    assert source != "lab-target"
    expect(status).to_have_text("Up")
    page.goto(service.url + "/admin/jobs")
    expect(page.locator("tr", has_text="Migrating VM to-move").first).to_contain_text(
        "Finished")
