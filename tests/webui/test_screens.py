"""The portals on any screen and in either colour scheme, as a user sees them: on a phone
(390x844) no page scrolls sideways, Log out is on the screen, the Admin Portal's menu folds
behind its button, tables scroll inside their card and dialogs fit; on a laptop the menu
stays beside the page; in the system's dark scheme the pages are dark and every kind of text
stands out from what is behind it (WCAG's 4.5:1)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.webui.conftest import VIEWPORT, create_vm, log_in
from tests.webui.service import ADMIN, Service

pytestmark = pytest.mark.slow

PHONE: ViewportSize = {"width": 390, "height": 844}
ADMIN_PAGES = ("/admin/", "/admin/vms", "/admin/templates", "/admin/hosts", "/admin/storage",
               "/admin/isos", "/admin/disks", "/admin/networks", "/admin/events",
               "/admin/monitoring", "/admin/reports", "/admin/audit", "/admin/jobs",
               "/admin/users", "/user/")

# WCAG's contrast of each element's text against the background it is drawn on.
CONTRAST = """(selectors) => {
  const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const behind = (el) => {
    for (let at = el; at; at = at.parentElement) {
      const c = rgb(getComputedStyle(at).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const found = [];
  for (const selector of selectors) {
    for (const el of [...document.querySelectorAll(selector)].slice(0, 3)) {
      if (!el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
      const fg = lum(rgb(getComputedStyle(el).color)), bg = lum(behind(el));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      const text = el.textContent.trim().slice(0, 30);
      found.push({ selector, text, ratio: Math.round(ratio * 100) / 100 });
    }
  }
  return found;
}"""
TEXTS = ("h1", "h2", "main p", ".muted", "main a:not(.btn)", ".btn", ".btn.primary",
         "table.list th", "table.list td", ".status", ".sev", ".flash", ".stat .label",
         ".stat .value", ".sidenav a", ".sidenav h3", ".topbar .who", "label", "input", "select",
         "dl.props dt", "dl.props dd", ".crumbs")


@pytest.fixture
def phone(browser: Browser, service: Service) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    log_in(page, service, ADMIN, service.admin_password)
    yield page
    context.close()


def fits_across(page: Page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5


def test_no_page_scrolls_sideways_on_a_phone_and_log_out_is_on_it(
        phone: Page, admin_session: Page, service: Service) -> None:
    create_vm(admin_session, service, "on-a-phone")  # a row in the lists
    for path in ADMIN_PAGES:
        phone.goto(service.url + path)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width} px wide"
        assert fits_across(phone, "text=Log out"), f"Log out is off the screen on {path}"
        if path.startswith("/admin"):
            expect(phone.locator("#sidenav")).to_be_hidden()
            expect(phone.get_by_role("button", name="Menu")).to_be_visible()


def test_the_menu_folds_behind_its_button_on_a_phone(phone: Page, service: Service) -> None:
    phone.goto(service.url + "/admin/")
    menu = phone.get_by_role("button", name="Menu")
    nav = phone.locator("#sidenav")
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    assert fits_across(phone, "#sidenav")
    phone.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    menu.click()
    nav.get_by_role("link", name="Virtual Machines").click()
    expect(phone).to_have_url(service.url + "/admin/vms")
    expect(phone.locator("h1")).to_have_text("Virtual Machines")
    expect(nav).to_be_hidden()


def test_tables_scroll_inside_their_card_and_dialogs_fit_on_a_phone(
        phone: Page, admin_session: Page, service: Service) -> None:
    create_vm(admin_session, service, "wide-table")
    phone.goto(service.url + "/admin/vms")
    scrolled = phone.evaluate("""() => {
      const card = document.querySelector('#vm-table').closest('.card');
      const before = card.scrollLeft;
      card.scrollLeft = 200;
      return { inner: card.scrollWidth, outer: card.clientWidth, moved: card.scrollLeft - before,
               page: document.documentElement.scrollWidth };
    }""")
    assert scrolled["inner"] > scrolled["outer"] and scrolled["moved"] > 0, scrolled
    assert scrolled["page"] <= PHONE["width"]
    phone.get_by_role("button", name="New VM").click()
    dialog = phone.locator("dialog#new-vm")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    create = dialog.get_by_role("button", name="Create")
    expect(create).to_be_in_viewport()
    phone.fill("#vm-name", "typed-on-a-phone")
    expect(phone.locator("#vm-name")).to_be_in_viewport()


def test_a_laptop_keeps_the_menu_beside_the_page(admin: Page, service: Service) -> None:
    admin.goto(service.url + "/admin/vms")
    expect(admin.locator("#sidenav")).to_be_visible()
    expect(admin.get_by_role("button", name="Menu")).to_be_hidden()
    box = admin.locator("#sidenav").bounding_box()
    main = admin.locator("main").bounding_box()
    assert box is not None and main is not None and box["x"] + box["width"] <= main["x"]
    assert admin.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_text_stands_out_in_either_colour_scheme(
    browser: Browser, service: Service, admin_session: Page, scheme: Literal["dark", "light"],
) -> None:
    create_vm(admin_session, service, f"in-{scheme}")
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(service.url + "/login")
        weak = [f for f in page.evaluate(CONTRAST, ["label", ".btn", ".tag", "input"])
                if f["ratio"] < 4.5]
        log_in(page, service, ADMIN, service.admin_password)
        for path in ("/admin/", "/admin/vms", "/admin/events", "/admin/hosts", "/user/"):
            page.goto(service.url + path)
            weak += [{**f, "page": path} for f in page.evaluate(CONTRAST, list(TEXTS))
                     if f["ratio"] < 4.5]
            canvas = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
            dark = sum(int(v) for v in canvas[canvas.index("(") + 1:-1].split(",")[:3]) < 150
            assert dark == (scheme == "dark"), f"{path} in {scheme}: the page is {canvas}"
        assert not weak, f"text too faint in {scheme}: {weak}"
    finally:
        context.close()
