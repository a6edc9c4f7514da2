"""The console page with the demo guest: Run on a down VM, the screen scaled to fit or 1:1,
fullscreen, text pasted as keystrokes (the guest reports each line typed on its keyboard on
its serial port), Ctrl+Alt+Del from the keys menu (the guest's kernel restarts), the serial
console in the browser (a command typed there is answered there), the paused indicator and
the power buttons; on a phone the screen fits the width."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.webui.conftest import create_vm, log_in
from tests.webui.service import ADMIN, Service

pytestmark = pytest.mark.slow

PHONE: ViewportSize = {"width": 390, "height": 844}
BOOT_SECONDS = 300  # seconds under TCG on an idle machine, minutes on a busy one
TERMINAL_TEXT = """() => {
  const buffer = window.virtstickConsole.terminal.buffer.active;
  const lines = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i).translateToString(true));
  return lines.join("\\n");
}"""
CANVAS_WIDTH = "() => document.querySelector('#screen canvas').getBoundingClientRect().width"


def serial_log(service: Service, vm_id: str) -> str:
    path = service.state_dir / "consoles" / f"{vm_id}.log"
    return path.read_bytes().decode("latin-1") if path.exists() else ""


def wait_in_log(service: Service, vm_id: str, text: str, *, after: int = 0,
                timeout: float = 60) -> int:
    """Where ``text`` shows in the serial log past offset ``after``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = serial_log(service, vm_id).find(text, after)
        if found >= 0:
            return found
        time.sleep(0.5)
    raise AssertionError(f"the guest never said {text!r}: {serial_log(service, vm_id)[-800:]}")


def test_the_console_page_drives_the_demo_guest(admin: Page, admin_session: Page,
                                                 browser: Browser, service: Service) -> None:
    vm_id = create_vm(admin_session, service, "console-page")
    page = admin
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(service.url + f"/console/{vm_id}")
    status = page.locator(f".console-bar [data-vm-status='{vm_id}']")
    expect(page.locator("#console-down")).to_be_visible()
    expect(status).to_have_text("Down")
    page.get_by_role("button", name="Run console-page").click()
    expect(status).to_have_text("Up", timeout=120_000)
    expect(page.locator("#console-status")).to_contain_text("Connected", timeout=60_000)
    expect(page.locator("#console-down")).to_be_hidden()
    ready = wait_in_log(service, vm_id, "VIRTSTICK-GUEST-READY", timeout=BOOT_SECONDS)

    # Fit fills the room the page has; 1:1 shows the guest's 720 pixels as they are.
    assert page.evaluate(CANVAS_WIDTH) > 800
    page.select_option("#scale", "1")
    page.wait_for_function(f"({CANVAS_WIDTH})() === 720")
    page.select_option("#scale", "fit")

    page.get_by_role("button", name="Fullscreen").click()
    page.wait_for_function("document.fullscreenElement === document.documentElement")
    expect(page.get_by_role("button", name="Exit fullscreen")).to_be_visible()
    page.get_by_role("button", name="Exit fullscreen").click()
    page.wait_for_function("document.fullscreenElement === null")

    page.get_by_role("button", name="Paste text…").click()
    page.fill("#paste-text", "Hello, World! 42_x\n")
    page.get_by_role("button", name="Type it").click()
    expect(page.locator("#console-status")).to_contain_text("Typed 19 characters")
    wait_in_log(service, vm_id, "VIRTSTICK-TYPED=Hello, World! 42_x", after=ready)

    page.get_by_role("button", name="Keys").click()
    page.get_by_role("menuitem", name="Ctrl+Alt+Del").click()
    restarted = wait_in_log(service, vm_id, "reboot: Restarting system", after=ready)
    ready = wait_in_log(service, vm_id, "VIRTSTICK-GUEST-READY", after=restarted,
                        timeout=BOOT_SECONDS)

    page.get_by_role("button", name="Serial console").click()
    expect(page.locator("#console-status")).to_contain_text("Serial console of console-page")
    expect(page.locator("#screen")).to_be_hidden()
    page.wait_for_function(f"({TERMINAL_TEXT})().includes('VIRTSTICK-GUEST-READY')")
    page.locator("#serial").click()
    page.keyboard.type("marker read")
    page.keyboard.press("Enter")
    page.wait_for_function(f"({TERMINAL_TEXT})().split('VIRTSTICK-GUEST-READY').pop()"
                           ".includes('VIRTSTICK-DISK-MARKER=')")
    page.get_by_role("button", name="Screen", exact=True).click()
    expect(page.locator("#console-status")).to_contain_text("Connected", timeout=60_000)

    page.get_by_role("button", name="Pause", exact=True).click()
    expect(status).to_have_text("Paused")
    expect(page.locator("#console-paused")).to_be_visible()
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(status).to_have_text("Up")
    expect(page.locator("#console-paused")).to_be_hidden()

    phone = browser.new_context(viewport=PHONE)
    try:
        small = phone.new_page()
        log_in(small, service, ADMIN, service.admin_password)
        small.goto(service.url + f"/console/{vm_id}")
        expect(small.locator("#console-status")).to_contain_text("Connected", timeout=60_000)
        small.wait_for_function("document.querySelector('#screen canvas').width === 720")
        box = small.locator("#screen canvas").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        phone.close()

    page.get_by_role("button", name="Power off", exact=True).click()  # confirmed above
    expect(status).to_have_text("Down", timeout=60_000)
    expect(page.locator("#console-down")).to_be_visible()
    expect(page.get_by_role("button", name="Run console-page")).to_be_enabled()
    expect(page.locator("#console-status")).to_have_text(re.compile("powered off|not running"))
