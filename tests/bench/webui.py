"""Portal benchmarks: server time of the VM list and the dashboard with 500 VMs (baseline:
the same pages with 10 VMs), the dashboard's first paint in the browser (the same baseline),
the server's CPU per open dashboard over a minute (its live stream; baseline: a page that
polls the VMs' status every 2 s, as pages did before streams), the time from clicking
Console to the guest's first frame on the canvas, and from the click of each VM action to
its visible result (``_portal_clicks``; baseline for both: loading the VM's page).

Server time is what the portal reports in its ``Server-Timing`` header (median of runs); CPU
is the service process's user and system time from /proc, less that of a minute with no
page open measured just before.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import statistics
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from appliance.demoguest import build
from appliance.engine.model import BLANK_TEMPLATE_ID
from appliance.vdsm.labhost import Lab
from tests.bench import Figure
from tests.bench._portal_clicks import click_figures
from tests.webui.service import ADMIN, Service, start_service

ROOT = Path(__file__).resolve().parents[2]
RUNS = 15
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]

MINUTE = 60.0
PAGES = 8  # open dashboards measured together: one alone is below the minute's noise
FIRST_PAINT = """() => new Promise((resolve) => {
  const look = () => {
    const [paint] = performance.getEntriesByName('first-contentful-paint');
    if (paint) resolve(paint.startTime); else requestAnimationFrame(look);
  };
  look();
})"""

FIRST_FRAME = """() => new Promise((resolve) => {
  const look = () => {
    const canvas = document.querySelector('#screen canvas');
    if (canvas && canvas.width) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < px.length; i += 4 * 7)
        if (px[i] + px[i + 1] + px[i + 2] > 200) { resolve(true); return; }
    }
    requestAnimationFrame(look);
  };
  look();
})"""


class Client:
    """A logged-in portal session over plain HTTP (cookies and the CSRF token kept)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = ""
        self.post("/login", username=ADMIN, password=service.admin_password)

    def get(self, path: str) -> tuple[str, float]:
        with self.opener.open(self.service.url + path) as response:
            body = response.read().decode()
            timing = response.headers.get("Server-Timing", "")
        match = re.search(r'name="csrf-token" content="([^"]+)"', body)
        if match:
            self.csrf = match.group(1)
        found = re.search(r"dur=([0-9.]+)", timing)
        return body, float(found.group(1)) if found else float("nan")

    def post(self, path: str, **form: str) -> str:
        if not self.csrf:
            self.get("/login")
        data = urllib.parse.urlencode({"csrf_token": self.csrf, **form}).encode()
        with self.opener.open(self.service.url + path, data=data) as response:
            body = response.read().decode()
            url = str(response.url)
        match = re.search(r'name="csrf-token" content="([^"]+)"', body)
        if match:
            self.csrf = match.group(1)
        return url

    def server_ms(self, path: str) -> float:
        self.get(path)  # warm
        return statistics.median(self.get(path)[1] for _ in range(RUNS))


def service_cpu_seconds(service: Service) -> float:
    fields = Path(f"/proc/{service.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(service: Service, during: Callable[[], AbstractContextManager[object]]) -> float:
    """Percent of one core the service used over a minute while ``during`` held."""
    with during():
        before = service_cpu_seconds(service)
        time.sleep(MINUTE)
        used = service_cpu_seconds(service) - before
    return 100.0 * used / MINUTE


@contextmanager
def nothing_open() -> Iterator[None]:
    yield


@contextmanager
def dashboards_open(service: Service, count: int) -> Iterator[None]:
    """Admins' dashboards in chromium, each with its live stream open (four to a session,
    as a session may hold)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        pages: list[Page] = []
        while len(pages) < count:
            first = logged_in(browser, service)
            pages += [first] + [first.context.new_page() for _ in range(3)]
        for page in pages[:count]:
            page.goto(service.url + "/admin/")
            page.wait_for_selector("html[data-live=open]")
        yield
        browser.close()


@contextmanager
def polling_page(client: Client) -> Iterator[None]:
    """What a page without a stream does: the VMs' status every 2 s."""
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(2.0):
            client.get("/status/vms.json")

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def logged_in(browser: Browser, service: Service) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
    page.goto(service.url + "/login")
    page.fill("#username", ADMIN)
    page.fill("#password", service.admin_password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def first_paint_ms(service: Service) -> float:
    """The dashboard's first contentful paint in chromium (median of 5 loads)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = logged_in(browser, service)
        paints = []
        for _ in range(6):
            page.goto(service.url + "/admin/")
            paints.append(float(page.evaluate(FIRST_PAINT)))
        browser.close()
    return statistics.median(paints[1:])  # the first load fills the caches


def add_vms(client: Client, names: range) -> None:
    for n in names:
        client.post("/admin/vms", name=f"bench-{n:04d}", template_id=BLANK_TEMPLATE_ID,
                    memory_mib="64", disk_gib="0", vnic_profile_id="")


def console_first_frame(service: Service, vm_id: str) -> tuple[float, float]:
    """(click Console to first guest frame, VM page load), seconds, medians of 3."""
    frames, loads = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        page = context.new_page()
        page.goto(service.url + "/login")
        page.fill("#username", ADMIN)
        page.fill("#password", service.admin_password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for _ in range(3):
            started = time.monotonic()
            page.goto(service.url + f"/admin/vms/{vm_id}")
            loads.append(time.monotonic() - started)
            started = time.monotonic()
            with context.expect_page() as opened:
                page.get_by_role("link", name="Console").click()
            console = opened.value
            console.evaluate(FIRST_FRAME)
            frames.append(time.monotonic() - started)
            console.close()
        browser.close()
    return statistics.median(frames), statistics.median(loads)


def run() -> list[Figure]:
    service = start_service(build(ROOT / ".cache" / "demoguest").disk, ticket_seconds=20)
    try:
        client = Client(service)
        add_vms(client, range(10))
        list_10, board_10 = client.server_ms("/admin/vms"), client.server_ms("/admin/")
        paint_10 = first_paint_ms(service)
        add_vms(client, range(10, 500))
        list_500, board_500 = client.server_ms("/admin/vms"), client.server_ms("/admin/")
        last_page = client.server_ms("/admin/vms?page=5")
        status_500 = client.server_ms("/status/vms.json")
        paint_500 = first_paint_ms(service)
        idle = cpu_share(service, nothing_open)
        streamed = (cpu_share(service, lambda: dashboards_open(service, PAGES)) - idle) / PAGES
        polled = cpu_share(service, lambda: polling_page(client)) - idle
        demo = _wait_demo(client)
        url = client.post("/admin/vms", name="bench-console", template_id=demo,
                          memory_mib="128", start_after="1")
        vm_id = url.rsplit("/", 1)[1]
        service.wait_guest_ready(vm_id)
        frame, page_load = console_first_frame(service, vm_id)
        client.post(f"/admin/vms/{vm_id}/action", action="stop")
        bulk = [m.group(1) for m in re.finditer(
            r'data-vm-row="([0-9a-f-]{36})" data-search="bench-000\d', client.get(
                "/admin/vms?q=bench-000")[0])]
        clicks = click_figures(service, demo, bulk)
    finally:
        _stop(service)
    return clicks + [
        Figure("VM list, 500 VMs, first page of 100 (server)", list_500, "ms",
               baseline=list_10, target="baseline: 10 VMs"),
        Figure("VM list, 500 VMs, last page (server)", last_page, "ms", baseline=list_10,
               target="baseline: 10 VMs"),
        Figure("dashboard, 500 VMs (server)", board_500, "ms", baseline=board_10,
               target="baseline: 10 VMs"),
        Figure("status JSON poll, 500 VMs (server)", status_500, "ms"),
        Figure("dashboard first paint, 500 VMs (chromium)", paint_500, "ms", baseline=paint_10,
               target="baseline: 10 VMs"),
        Figure(f"server CPU per open dashboard (live stream; {PAGES} open), 500 VMs",
               streamed, "% of a core", baseline=polled,
               target="under 1% of a core; baseline: a page polling every 2 s"),
        Figure("server CPU, no page open, 500 VMs (the monitor and the engine)", idle,
               "% of a core"),
        Figure("click Console to first guest frame", frame, "s", baseline=page_load,
               target="baseline: loading the VM's page"),
    ]


def _stop(service: Service) -> None:
    """The service, then the lab host it started (lab hosts outlive their engine)."""
    service.process.terminate()
    try:
        service.process.wait(20)
    finally:
        Lab(service.state_dir / "lab", token="").teardown()
        service.stop()


def _wait_demo(client: Client) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body, _ = client.get("/admin/vms")
        match = re.search(r'<option value="([0-9a-f-]{36})"[^>]*>Demo</option>', body)
        if match:
            return match.group(1)
        time.sleep(1)
    raise TimeoutError("the Demo template was not imported")
