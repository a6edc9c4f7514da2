"""Every page of both portals, the login page and the console page, screenshotted at
1366x768 and 390x844 and compared with the reference images in tests/webui/reference/.

The lab is made the same way each time (a service of its own: the Demo template, one VM, one
user), and what changes from run to run or machine to machine is masked: times, ids and
MACs, charts and meters, the live counts, the host's own name, memory and disks. A page
fails when more than ``THRESHOLD`` of its pixels differ (by more than a little: fonts are
anti-aliased); the image it showed and a picture of the differences go to
tests/output/screenshots/. ``make screenshots`` (``VIRTSTICK_UPDATE_SCREENSHOTS=1``) takes
the references again, after a change of look.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.webui.conftest import create_vm, csrf, log_in, wait_for_demo_template
from tests.webui.service import ADMIN, Service, start_service

pytestmark = pytest.mark.slow

REFERENCE = Path(__file__).parent / "reference"
OUTPUT = Path(__file__).resolve().parents[2] / "tests" / "output" / "screenshots"
UPDATE = os.environ.get("VIRTSTICK_UPDATE_SCREENSHOTS") == "1"
THRESHOLD = 0.004  # the share of a page's pixels that may differ
SCREENS: dict[str, ViewportSize] = {"desktop": {"width": 1366, "height": 768},
                                    "phone": {"width": 390, "height": 844}}
# Everywhere: what differs by time, by id or by machine.
MASKED = ("time", ".mono", "svg", "[data-vm-host]", "[data-host-name]", ".task-times")


@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # {vm} stands for the VM's id
    masked: tuple[str, ...] = ()
    logged_in: bool = True
    dialog: str = ""  # a button that opens a dialog before the picture


SHOTS = (
    Shot("login", "/login", logged_in=False),
    Shot("dashboard", "/admin/", ("[data-stat=memory_total]", "[data-stat=cpus_total]",
                                  "[data-meter=vcpus]", "[aria-label=Storage] dd",
                                  "[aria-label=Storage] td", "[data-meter=storage]")),
    Shot("vms", "/admin/vms"),
    Shot("new-vm", "/admin/vms", dialog="New VM"),
    Shot("vm", "/admin/vms/{vm}"),
    Shot("vm-monitoring", "/admin/vms/{vm}/monitoring", ("main p",)),
    Shot("templates", "/admin/templates"),
    Shot("hosts", "/admin/hosts", ("main table",)),
    Shot("storage", "/admin/storage", ("main table",)),
    Shot("isos", "/admin/isos"),
    Shot("disks", "/admin/disks"),
    Shot("networks", "/admin/networks"),
    Shot("events", "/admin/events", ("main td:nth-child(1)",)),
    Shot("monitoring", "/admin/monitoring", ("main .card h2",)),
    Shot("reports", "/admin/reports", ("main table",)),
    Shot("audit", "/admin/audit", ("main table",)),  # its entries: the logins so far
    Shot("jobs", "/admin/jobs"),
    Shot("users", "/admin/users"),
    Shot("user-vms", "/user/"),
    Shot("user-vm", "/user/vms/{vm}"),
    Shot("user-vm-monitoring", "/user/vms/{vm}/monitoring", ("main p",)),
    Shot("console", "/console/{vm}"),
)

# A time's text is masked, but its width still lays out its table (11:05:09 PM is wider
# than 9:05:09 AM, so a run late in the day moved every column): each time gets the same
# text, as wide as a time gets.
SAME_TIMES = """() => document.querySelectorAll("time").forEach((time) => {
  time.textContent = "12/31/2026, 12:59:59 PM";
})"""
# Both images drawn on canvases: how many pixels differ, and a picture of where.
DIFF = """async ([expected, actual]) => {
  const load = async (data) => {
    const image = new Image();
    image.src = 'data:image/png;base64,' + data;
    await image.decode();
    const canvas = document.createElement('canvas');
    canvas.width = image.width;
    canvas.height = image.height;
    const context = canvas.getContext('2d');
    context.drawImage(image, 0, 0);
    return { canvas, context, data: context.getImageData(0, 0, image.width, image.height) };
  };
  const a = await load(expected), b = await load(actual);
  if (a.canvas.width !== b.canvas.width || a.canvas.height !== b.canvas.height)
    return { size: [a.canvas.width, a.canvas.height, b.canvas.width, b.canvas.height] };
  const out = a.context.createImageData(a.canvas.width, a.canvas.height);
  let differing = 0;
  for (let i = 0; i < a.data.data.length; i += 4) {
    const d = Math.max(...[0, 1, 2].map((c) => Math.abs(a.data.data[i + c] - b.data.data[i + c])));
    const grey = (a.data.data[i] + a.data.data[i + 1] + a.data.data[i + 2]) / 12;
    if (d > 32) differing += 1;
    out.data.set(d > 32 ? [255, 0, 0, 255] : [grey, grey, grey, 255], i);
  }
  a.context.putImageData(out, 0, 0);
  return { differing, pixels: a.data.data.length / 4,
           diff: a.canvas.toDataURL('image/png').split(',')[1] };
}"""


@pytest.fixture(scope="module")
def lab(demo_disk: Path) -> Iterator[Service]:
    """A service of its own with the same few things each time."""
    service = start_service(demo_disk)
    yield service
    service.stop()


@pytest.fixture(scope="module")
def vm_id(lab: Service, browser: Browser) -> str:
    context = browser.new_context()
    page = context.new_page()
    log_in(page, lab, ADMIN, lab.admin_password)
    wait_for_demo_template(page, lab)
    made = create_vm(page, lab, "web-1")
    page.goto(lab.url + "/admin/users")
    page.request.post(lab.url + "/admin/users", form={
        "csrf_token": csrf(page), "name": "jdoe", "password": "a long passphrase 1",
        "email": "jdoe@example.com"})
    context.close()
    return made


@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_looks_as_its_reference(lab: Service, vm_id: str, browser: Browser,
                                           screen: str) -> None:
    context = browser.new_context(viewport=SCREENS[screen],
                                  color_scheme="light", reduced_motion="reduce")
    page = context.new_page()
    judge = browser.new_page()
    failed = []
    logged_in = False
    try:
        for shot in SHOTS:
            if shot.logged_in and not logged_in:
                log_in(page, lab, ADMIN, lab.admin_password)
            elif not shot.logged_in:
                context.clear_cookies()
            logged_in = shot.logged_in
            picture = take(page, lab, shot, vm_id)
            problem = compare(judge, f"{shot.name}-{screen}", picture)
            if problem:
                failed.append(problem)
    finally:
        judge.close()
        context.close()
    assert not failed, "pages differ from their references:\n" + "\n".join(failed)


def take(page: Page, lab: Service, shot: Shot, vm_id: str) -> bytes:
    page.goto(lab.url + shot.path.format(vm=vm_id))
    settle(page)
    if shot.dialog:
        page.get_by_role("button", name=shot.dialog, exact=True).click()
        expect(page.locator("dialog[open]")).to_be_visible()
    page.evaluate(SAME_TIMES)
    masks = [page.locator(s) for s in (*MASKED, *shot.masked)]
    return page.screenshot(mask=masks, mask_color="#ff00ff", animations="disabled",
                           caret="hide")


def settle(page: Page) -> None:
    """Until the live parts have said what they say at first: the stream is open and the
    first statuses and jobs are in (an open stream never lets the network go idle)."""
    page.wait_for_load_state("load")
    if page.locator('meta[name="virtstick-live"]').count():
        expect(page.locator("html")).to_have_attribute("data-live", re.compile("open|polling"),
                                                       timeout=30_000)
    time.sleep(0.5)


def compare(judge: Page, name: str, picture: bytes) -> str:
    """"" when the picture is as its reference (or the reference was just taken)."""
    reference = REFERENCE / f"{name}.png"
    if UPDATE:
        REFERENCE.mkdir(parents=True, exist_ok=True)
        reference.write_bytes(picture)
        return ""
    if not reference.exists():
        return _keep(name, picture, None, f"{name}: no reference image (make screenshots)")
    found = judge.evaluate(DIFF, [base64.b64encode(reference.read_bytes()).decode(),
                                  base64.b64encode(picture).decode()])
    if "size" in found:
        return _keep(name, picture, None, f"{name}: the page is {found['size'][2:]} px, "
                                          f"its reference {found['size'][:2]}")
    share = found["differing"] / found["pixels"]
    if share > THRESHOLD:
        return _keep(name, picture, base64.b64decode(found["diff"]),
                     f"{name}: {share:.2%} of its pixels differ (at most {THRESHOLD:.2%})")
    return ""


def _keep(name: str, picture: bytes, diff: bytes | None, problem: str) -> str:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.png").write_bytes(picture)
    if diff is not None:
        (OUTPUT / f"{name}-diff.png").write_bytes(diff)
    return problem
