"""Browser tests of the portals: the real service in a subprocess (real libvirt, QEMU TCG,
the demo guest) driven by Playwright through Debian's chromium."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from tests.webui.service import ADMIN, Service, start_service

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # a laptop screen


@pytest.fixture(scope="session")
def service(demo_disk: Path) -> Iterator[Service]:
    running = start_service(demo_disk)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # Uploads go to the image server over HTTPS with the appliance's own CA, which a user
    # installs in their browser (oVirt's portal asks the same); the test browser skips that.
    context = browser.new_context(viewport=VIEWPORT,
                                  ignore_https_errors=True)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def admin(page: Page, service: Service) -> Page:
    log_in(page, service, ADMIN, service.admin_password)
    return page


@pytest.fixture(scope="session")
def admin_session(browser: Browser, service: Service) -> Iterator[Page]:
    """One admin page for the whole run, for setting things up through the portal."""
    context = browser.new_context(viewport=VIEWPORT)
    opened = context.new_page()
    log_in(opened, service, ADMIN, service.admin_password)
    yield opened
    context.close()


def csrf(page: Page) -> str:
    return str(page.locator('meta[name="csrf-token"]').get_attribute("content"))


def post(page: Page, service: Service, path: str, **form: str) -> str:
    """A form POST as the page's user, with its CSRF token; returns the URL it ended on."""
    page.goto(service.url + "/admin/")
    response = page.request.post(service.url + path, form={"csrf_token": csrf(page), **form})
    assert response.ok, response.text()
    return response.url


def wait_for_demo_template(page: Page, service: Service, *, base: str = "") -> str:
    """The Demo template's id, once its import has finished (pages under ``base``, by
    default the service's plain HTTP address)."""
    base = base or service.url
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page.goto(base + "/admin/templates")
        row = page.locator("tr", has_text="Demo")
        if row.count() and "Ok" in row.first.inner_text():
            page.goto(base + "/admin/vms")
            option = page.locator("#vm-template option", has_text="Demo")
            return str(option.get_attribute("value"))
        time.sleep(1)
    raise AssertionError("the Demo template was not imported")


def create_vm(page: Page, service: Service, name: str, *, start: bool = False) -> str:
    template = wait_for_demo_template(page, service)
    form = {"name": name, "memory_mib": "128", "template_id": template}
    if start:
        form["start_after"] = "1"
    url = post(page, service, "/admin/vms", **form)
    match = re.search(r"/admin/vms/([0-9a-f-]{36})", url)
    assert match, url
    return match.group(1)


def log_in(page: Page, service: Service, username: str, password: str) -> None:
    page.goto(service.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
