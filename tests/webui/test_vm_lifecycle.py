"""The evaluator's first walk: log in, make a VM from the demo template, run it, see its
screen in the browser console, shut it down, remove it."""

from __future__ import annotations

import base64
import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.webui.conftest import shot, wait_for_demo_template
from tests.webui.service import Service, screenshot

pytestmark = pytest.mark.slow

# Which 9x16 character cells of a text screen have bright pixels: the shape of the text.
# Run in the page on the noVNC canvas and on libvirt's screenshot decoded by the browser.
INK = """async (png) => {
  let canvas = document.querySelector('#screen canvas');
  if (png !== null) {
    const image = new Image();
    image.src = 'data:image/png;base64,' + png;
    await image.decode();
    canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    canvas.getContext('2d').drawImage(image, 0, 0);
  }
  if (!canvas || !canvas.width) return null;
  const w = canvas.width, h = canvas.height;
  const px = canvas.getContext('2d').getImageData(0, 0, w, h).data;
  const cols = Math.floor(w / 9), rows = Math.floor(h / 16), marks = [];
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    let lit = false;
    for (let y = r * 16; y < (r + 1) * 16 && !lit; y += 2)
      for (let x = c * 9; x < (c + 1) * 9; x++) {
        const i = (y * w + x) * 4;
        if (px[i] + px[i + 1] + px[i + 2] > 200) { lit = true; break; }
      }
    marks.push(lit);
  }
  return {w, h, marks};
}"""


def test_vm_lifecycle_with_console(admin: Page, service: Service) -> None:
    page = admin
    wait_for_demo_template(page, service)
    shot(page, "templates")

    page.goto(service.url + "/admin/vms")
    page.get_by_role("button", name="New VM").click()
    dialog = page.locator("dialog#new-vm")
    expect(dialog).to_be_visible()
    page.fill("#vm-name", "walkthrough")
    page.fill("#vm-memory", "256")
    expect(page.locator("#vm-template option:checked")).to_have_text("Demo")
    shot(page, "new-vm-dialog")
    dialog.get_by_role("button", name="Create").click()
    expect(page).to_have_url(re.compile(r"/admin/vms/[0-9a-f-]+$"))
    vm_id = page.url.rsplit("/", 1)[1]
    status = page.locator(f".page-head [data-vm-status='{vm_id}']")
    expect(status).to_have_text("Down")

    page.get_by_role("button", name="Run").click()
    expect(status).to_have_text("Up", timeout=120_000)
    shot(page, "vm-details")

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Console").click()
    console = opened.value
    service.wait_guest_ready(vm_id)
    expect(console.locator("#console-status")).to_contain_text("Connected", timeout=30_000)
    assert_console_shows_guest(console, vm_id)
    shot(console, "console")
    console.close()

    page.goto(service.url + "/admin/vms")
    shot(page, "vms")
    page.goto(service.url + "/admin/")
    shot(page, "dashboard")
    page.goto(service.url + f"/admin/vms/{vm_id}")
    page.get_by_role("button", name="Shut down").click()
    # The status changes by polling, without a reload.
    expect(status).to_have_text("Down", timeout=90_000)

    page.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Remove…").click()
    confirm = page.locator("dialog#delete-vm")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Remove").click()
    expect(page).to_have_url(re.compile(r"/admin/vms$"))
    expect(page.locator(".flash.success")).to_contain_text("walkthrough was removed")
    expect(page.locator(f"[data-vm-row='{vm_id}']")).to_have_count(0)


def assert_console_shows_guest(console: Page, vm_id: str) -> None:
    """The canvas shows what libvirt's screenshot shows: the guest's banner, cell by cell."""
    deadline = time.monotonic() + 90
    agreement, lit = 0.0, 0
    while time.monotonic() < deadline:
        seen = console.evaluate(INK, None)
        mime, image = screenshot(vm_id)
        assert mime == "image/png", f"libvirt gave a {mime} screenshot"
        guest = console.evaluate(INK, base64.b64encode(image).decode())
        truth = guest["marks"]
        if seen and (seen["w"], seen["h"]) == (guest["w"], guest["h"]):
            lit = sum(truth)
            agreement = sum(a == b for a, b in zip(seen["marks"], truth, strict=True)) / len(truth)
            if lit >= 100 and agreement >= 0.97:
                return
        time.sleep(1)
    raise AssertionError(f"the console canvas does not show the guest's screen: "
                         f"{lit} lit cells on the guest, {agreement:.0%} agreement")
