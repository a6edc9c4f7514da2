"""Click to visible result for each action of the portals' VM page and list (issue 16), in
chromium at 1366x768 against the real service: from the click (or the submit of a dialog)
until the page shows what the action did, watched on every animation frame. The baseline is
loading the VM's page. Used by ``tests/bench/webui.py``."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.bench import Figure
from tests.webui.service import ADMIN, Service

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
WAIT_MS = 240_000  # jobs under TCG on a busy machine


class Clicks:
    """One logged-in page and the figures measured on it."""

    def __init__(self, page: Page, service: Service, baseline: float) -> None:
        self.page = page
        self.service = service
        self.baseline = baseline
        self.figures: list[Figure] = []
        self.folders: list[Path] = []  # of the host, for OVAs and ISOs; removed at the end

    def folder(self, prefix: str) -> Path:
        made = Path(tempfile.mkdtemp(prefix=prefix, dir="/var/tmp"))
        made.chmod(0o755)
        self.folders.append(made)
        return made

    def measure(self, name: str, action: Callable[[], None], seen: str, *,
                arg: object = None) -> float:
        """``action``, then until the JavaScript predicate ``seen`` holds; in ms."""
        started = time.monotonic()
        action()
        self.page.wait_for_function(seen, arg=arg, polling="raf", timeout=WAIT_MS)
        value = (time.monotonic() - started) * 1000
        self.figures.append(Figure(f"click to visible: {name}", value, "ms",
                                   baseline=self.baseline,
                                   target="baseline: loading the VM's page"))
        return value

    def note_results(self) -> None:
        """Name the last figure with how many VMs the bulk action did (a refusal is a result
        too, and quicker: the figure must say so)."""
        said = self.page.locator(".bulk-results h2").inner_text()
        last = self.figures[-1]
        self.figures[-1] = Figure(f"{last.name} ({said})", last.value, last.unit,
                                  baseline=last.baseline, target=last.target)
        refused = self.page.locator(".bulk-results li.refused")
        for item in refused.all()[:3]:
            print(f"   refused: {item.inner_text()}", flush=True)

    def go(self, path: str) -> None:
        self.page.goto(self.service.url + path)

    def button(self, label: str) -> Callable[[], None]:
        return lambda: self.page.get_by_role("button", name=label, exact=True).first.click()

    def submit(self, dialog: str, label: str) -> Callable[[], None]:
        return lambda: self.page.locator(f"dialog#{dialog}").get_by_role(
            "button", name=label, exact=True).click()


def visible(selector: str) -> str:
    return (f"() => {{ const el = document.querySelector({selector!r}); "
            "return !!el && !!(el.offsetWidth || el.offsetHeight); }")


def gone(selector: str) -> str:
    return f"() => !document.querySelector({selector!r})"


def text(selector: str, words: str) -> str:
    return (f"() => {{ const el = document.querySelector({selector!r}); "
            f"return !!el && el.textContent.includes({words!r}); }}")


def in_card(title_id: str, words: str) -> str:
    """The card headed by ``title_id`` shows ``words``."""
    return (f"() => {{ const h = document.getElementById({title_id!r}); "
            f"return !!h && h.closest('section').textContent.includes({words!r}); }}")


def status(vm_id: str, words: str) -> str:
    return text(f".page-head [data-vm-status='{vm_id}']", words)


def click_figures(service: Service, demo_template: str, vm_ids: list[str]) -> list[Figure]:
    """``vm_ids``: ten VMs with no OS for the bulk actions (removed at the end)."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        # Uploads go to the image daemon over HTTPS with the appliance's own CA.
        page = browser.new_context(viewport={"width": 1366, "height": 768},
                                   ignore_https_errors=True).new_page()
        page.on("dialog", lambda d: d.accept())  # every confirmation is answered yes
        page.goto(service.url + "/login")
        page.fill("#username", ADMIN)
        page.fill("#password", service.admin_password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        vm_id = _new_vm(page, service, demo_template, "bench-act")
        loads = []
        for _ in range(3):
            started = time.monotonic()
            page.goto(service.url + f"/admin/vms/{vm_id}")
            loads.append(time.monotonic() - started)
        clicks = Clicks(page, service, statistics.median(loads) * 1000)
        try:
            _menu_and_jobs(clicks, vm_id)
            _snapshots_and_devices(clicks, vm_id)
            _running(clicks, vm_id)
            _lists(clicks, vm_ids)
        finally:
            browser.close()
            for folder in clicks.folders:
                shutil.rmtree(folder, ignore_errors=True)
    return clicks.figures


def _new_vm(page: Page, service: Service, template: str, name: str) -> str:
    page.goto(service.url + "/admin/vms")
    page.get_by_role("button", name="New VM").click()
    page.fill("#vm-name", name)
    page.locator("#vm-template").select_option(value=template)
    page.fill("#vm-memory", "128")
    page.locator("dialog#new-vm").get_by_role("button", name="Create").click()
    page.wait_for_url("**/admin/vms/*")
    return page.url.rsplit("/", 1)[1]


def _menu_and_jobs(c: Clicks, vm_id: str) -> None:
    page = c.page
    menu_times = []
    for _ in range(5):
        menu_times.append(c.measure("More menu opens", c.button("More"),
                                    visible("#vm-more button[data-open-dialog='delete-vm']")))
        page.keyboard.press("Escape")
    c.figures = [f for f in c.figures if f.name != "click to visible: More menu opens"]
    c.figures.append(Figure("click to visible: More menu opens (median of 5)",
                            statistics.median(menu_times), "ms", baseline=c.baseline,
                            target="baseline: loading the VM's page"))
    page.get_by_role("button", name="More").click()
    c.measure("Clone dialog opens", c.button("Clone…"), visible("dialog#clone-vm[open]"))
    page.fill("#clone-name", "bench-act-copy")
    c.measure("Clone, to the new VM's page", c.submit("clone-vm", "Clone"),
              text("main h1", "bench-act-copy"))
    copy_id = page.url.rsplit("/", 1)[1]
    c.measure("Clone, to the copy done (status Down, no reload)", lambda: None,
              status(copy_id, "Down"))

    exports = c.folder("vs-bench-ova-")
    for dialog, item, field, value, label, flash in (
            ("make-template", "Make template…", "#template-name", "bench-template",
             "Make template", "is being made"),
            ("export-vm", "Export as OVA…", "#export-directory", str(exports), "Export",
             "is being exported")):
        c.go(f"/admin/vms/{vm_id}")
        page.get_by_role("button", name="More").click()
        page.get_by_role("button", name=item).click()
        page.fill(field, value)
        c.measure(f"{label}, to its message", c.submit(dialog, label),
                  text(".flash.success", flash))
        c.measure(f"{label}, to the job done (status Down, no reload)", lambda: None,
                  status(vm_id, "Down"))

    c.go("/admin/vms")
    page.get_by_role("button", name="Import OVA…").click()
    page.fill("#ova-path", str(exports / "bench-act.ova"))
    page.fill("#ova-name", "bench-imported")
    c.measure("Import OVA, to the new VM's page", c.submit("import-ova", "Import"),
              text("main h1", "bench-imported"))
    imported = page.url.rsplit("/", 1)[1]
    c.measure("Import OVA, to the import done (status Down, no reload)", lambda: None,
              status(imported, "Down"))


def _snapshots_and_devices(c: Clicks, vm_id: str) -> None:
    page = c.page
    c.go(f"/admin/vms/{vm_id}")
    page.get_by_label("Snapshot description").fill("bench")
    c.measure("Take snapshot (VM down)", c.button("Take snapshot"),
              visible("tr[data-snapshot='bench']"))
    row = page.locator("tr[data-snapshot='bench']")
    c.measure("Preview snapshot", lambda: row.get_by_role("button", name="Preview").click(),
              visible("[data-previewing]"))
    c.measure("Undo preview", c.button("Undo"), gone("[data-previewing]"))
    c.measure("Restore snapshot", lambda: row.get_by_role("button", name="Restore").click(),
              text(".flash.success", "restored"))
    c.measure("Remove snapshot", lambda: row.get_by_role("button", name="Remove").click(),
              gone("tr[data-snapshot='bench']"))

    page.get_by_role("button", name="Add disk…").click()
    page.fill("#disk-size", "1")
    c.measure("Add disk", c.submit("disk-add", "Add"), visible("tr[data-disk='bench-act_disk2']"))
    page.get_by_role("button", name="Grow bench-act_disk2").click()
    page.fill("#resize-size", "2")
    c.measure("Grow disk (VM down)", c.submit("disk-resize", "Grow"),
              text("tr[data-disk='bench-act_disk2']", "2.0 GiB"))
    page.get_by_role("button", name="Detach bench-act_disk2").click()
    page.locator("dialog#disk-detach").get_by_label("Also remove the disk").check()
    c.measure("Detach and remove disk", c.submit("disk-detach", "Detach"),
              gone("tr[data-disk='bench-act_disk2']"))
    page.get_by_role("button", name="Add NIC…").click()
    c.measure("Add NIC", c.submit("nic-add", "Add"), in_card("nics-title", "nic2"))
    nic = page.locator("section", has=page.locator("#nics-title")).locator("tr", has_text="nic2")
    c.measure("Remove NIC", lambda: nic.get_by_role("button", name="Remove").click(),
              f"() => !({in_card('nics-title', 'nic2')})()")
    page.locator("dd", has_text="Off").get_by_role("button", name="Change…").click()
    page.locator("dialog#high-availability").get_by_label("Highly available").check()
    c.measure("High availability on", c.submit("high-availability", "Save"),
              text("main", "On: restarted if it fails"))
    page.get_by_role("button", name="Add to a group…").click()
    page.fill("#group-name", "bench-group")
    c.measure("Join affinity group", c.submit("affinity-join", "Add"),
              in_card("affinity-title", "bench-group"))


def _running(c: Clicks, vm_id: str) -> None:
    page = c.page
    iso = _upload_iso(c)
    c.go(f"/admin/vms/{vm_id}")
    c.measure("Run, to status Up", c.button("Run"), status(vm_id, "Up"))
    page.locator("dd", has_text="empty").get_by_role("button", name="Change…").click()
    option = page.locator("#cdrom-iso option", has_text=iso)
    page.locator("#cdrom-iso").select_option(value=option.get_attribute("value"))
    c.measure("Change CD-ROM of a running VM", c.submit("cdrom", "Change"),
              text(".flash.success", "now."))
    page.get_by_role("button", name="Grow bench-act_Demo_disk").click()
    page.fill("#resize-size", "1")
    c.measure("Grow disk of a running VM", c.submit("disk-resize", "Grow"),
              text(".flash.success", "now has 1.0 GiB"))

    c.go("/admin/hosts")
    page.fill("#lab-name", "bench-lab")
    page.fill("#lab-memory", "768")
    c.measure("Start lab host", c.button("Start lab host"), text(".flash.success", "is up"))
    c.go(f"/admin/vms/{vm_id}")
    page.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Migrate…").click()
    option = page.locator("#migrate-host option", has_text="bench-lab")
    page.locator("#migrate-host").select_option(value=option.get_attribute("value"))
    c.measure("Migrate to a chosen host, to its name as the VM's host (no reload)",
              c.submit("migrate-vm", "Migrate"), text(f"[data-vm-host='{vm_id}']", "bench-lab"))
    page.get_by_role("button", name="More").click()
    c.measure("Power off (confirmed), to status Down", c.button("Power off"),
              status(vm_id, "Down"))


def _lists(c: Clicks, vm_ids: list[str]) -> None:
    page = c.page
    c.go("/admin/vms")
    c.measure("Sort 500 VMs by memory", lambda: page.locator("#vm-table").get_by_role(
        "link", name="Memory").click(), visible("th[aria-sort='ascending'] a[href*='dir=desc']"))
    summary = page.locator(".tree summary", has_text="Not running").first
    was_open = summary.evaluate("(s) => s.parentElement.open")  # 500 VMs: it starts folded
    c.measure("Fold or unfold a branch of the resource tree", summary.click,
              "(was) => { const s = [...document.querySelectorAll('.tree summary')]"
              ".find((x) => x.textContent.includes('Not running')); "
              "return !!s && s.parentElement.open !== was; }", arg=was_open)
    bar = page.get_by_role("toolbar", name="Actions on the ticked VMs")
    c.go("/admin/vms?q=bench-000")
    page.get_by_label("Tick every VM on this page").check()
    c.measure("Bulk Run of 10 VMs, to each one's result",
              lambda: bar.get_by_role("button", name="Run").click(), visible(".bulk-results"))
    c.note_results()
    for vm_id in vm_ids:
        page.request.post(c.service.url + f"/admin/vms/{vm_id}/action",
                          form={"csrf_token": _csrf(page), "action": "stop"})
    c.go("/admin/vms?q=bench-000")
    page.get_by_label("Tick every VM on this page").check()
    c.measure("Bulk Remove of 10 VMs, to the confirmation",
              lambda: bar.get_by_role("button", name="Remove…").click(),
              visible("dialog#bulk-remove[open]"))
    c.measure("Bulk Remove of 10 VMs, confirmed, to each one's result",
              c.submit("bulk-remove", "Remove"), visible(".bulk-results"))
    c.note_results()


def _upload_iso(c: Clicks) -> str:
    folder = c.folder("vs-bench-iso-")
    (folder / "root").mkdir()
    (folder / "root" / "README.TXT").write_text("bench\n")
    iso = folder / "bench-cd.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso),
                    str(folder / "root")], check=True, capture_output=True)
    c.go("/admin/isos")
    c.page.set_input_files("#iso-file", str(iso))
    c.page.get_by_role("button", name="Upload").click()
    c.page.wait_for_function(text("tbody", "bench-cd"), polling="raf", timeout=WAIT_MS)
    return "bench-cd"


def _csrf(page: Page) -> str:
    return str(page.locator('meta[name="csrf-token"]').get_attribute("content"))
