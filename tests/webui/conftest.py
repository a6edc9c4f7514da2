"""Browser tests of the portals: the real service in a subprocess (real libvirt, QEMU TCG,
the demo guest) driven by Playwright through Debian's chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from appliance.demoguest import build
from tests.webui.service import ADMIN, Service, start_service

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "tests" / "output"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}  # a laptop screen


@pytest.fixture(scope="session")
def demo_disk() -> Path:
    return build(ROOT / ".cache" / "demoguest").disk


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
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def admin(page: Page, service: Service) -> Page:
    log_in(page, service, ADMIN, service.admin_password)
    return page


def log_in(page: Page, service: Service, username: str, password: str) -> None:
    page.goto(service.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def shot(page: Page, name: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"{name}.png"))
