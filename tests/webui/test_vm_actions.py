"""The VM actions that only the API had, driven in chromium at 1366x768 as an evaluator
would: the More menu (by mouse, by keyboard and without scripts), clone, make template,
export and import an OVA, snapshots with and without memory, disks, NICs, the CD-ROM of a
running VM, high availability and affinity; each time what the page then shows."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import libvirt
import pytest
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.webui.conftest import VIEWPORT, create_vm, log_in, post, shot
from tests.webui.service import ADMIN, Service

pytestmark = pytest.mark.slow

LONG = 120_000  # ms: jobs under TCG on a busy machine


def more(page: Page, item: str) -> None:
    page.get_by_role("button", name="More").click()
    page.get_by_role("button", name=item, exact=True).click()


def accept_next_confirm(page: Page) -> None:
    page.once("dialog", lambda d: d.accept())


def wait_for_status(page: Page, vm_id: str, text: str) -> None:
    expect(page.locator(f".page-head [data-vm-status='{vm_id}']")).to_have_text(
        text, timeout=LONG)


def live_xml(vm_id: str) -> ET.Element:
    conn = libvirt.open("qemu:///system")
    try:
        return ET.fromstring(conn.lookupByUUIDString(vm_id).XMLDesc(0))
    finally:
        conn.close()


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A directory of the host for OVAs, which QEMU's user and the service reach."""
    folder = Path(tempfile.mkdtemp(prefix="vs-ova-", dir="/var/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_more_menu_by_keyboard_and_without_scripts(admin: Page, service: Service,
                                                       browser: Browser) -> None:
    vm_id = create_vm(admin, service, "menu-vm")
    admin.goto(service.url + f"/admin/vms/{vm_id}")
    toolbar = admin.get_by_role("toolbar", name="VM actions")
    # The primary actions are in view, the rest wait behind More.
    for label in ("Run", "Shut down", "Console", "Edit"):
        expect(toolbar.get_by_text(label, exact=True)).to_be_visible()
    more_button = admin.get_by_role("button", name="More")
    expect(admin.get_by_role("button", name="Remove…")).to_be_hidden()
    more_button.focus()
    admin.keyboard.press("Enter")
    expect(more_button).to_have_attribute("aria-expanded", "true")
    expect(admin.get_by_role("button", name="Remove…")).to_be_visible()
    shot(admin, "vm-more-menu")
    admin.keyboard.press("ArrowDown")
    expect(admin.get_by_role("button", name="Clone…")).to_be_focused()  # the first enabled
    admin.keyboard.press("ArrowDown")
    expect(admin.get_by_role("button", name="Make template…")).to_be_focused()
    admin.keyboard.press("Escape")
    expect(more_button).to_have_attribute("aria-expanded", "false")
    expect(more_button).to_be_focused()
    expect(admin.get_by_role("button", name="Remove…")).to_be_hidden()

    # Without scripts the menu's items are a plain list in the toolbar.
    context = browser.new_context(viewport=VIEWPORT, java_script_enabled=False)
    plain = context.new_page()
    log_in(plain, service, ADMIN, service.admin_password)
    plain.goto(service.url + f"/admin/vms/{vm_id}")
    expect(plain.get_by_role("button", name="More")).to_be_hidden()
    for label in ("Clone…", "Make template…", "Export as OVA…", "Remove…"):
        expect(plain.get_by_role("button", name=label)).to_be_visible()
    shot(plain, "vm-menu-without-scripts")
    context.close()


def test_clone_template_export_and_import(admin: Page, service: Service,
                                          host_dir: Path) -> None:
    page = admin
    vm_id = create_vm(page, service, "act-src")
    page.goto(service.url + f"/admin/vms/{vm_id}")

    more(page, "Clone…")
    dialog = page.locator("dialog#clone-vm")
    expect(dialog).to_be_visible()
    page.fill("#clone-name", "act-copy")
    dialog.get_by_role("button", name="Clone").click()
    expect(page.locator("main h1")).to_have_text("act-copy")
    expect(page.locator(".flash.success")).to_contain_text("is being cloned to act-copy")
    copy_id = page.url.rsplit("/", 1)[1]
    expect(page.locator("#tasks")).to_contain_text("Cloning VM act-src to act-copy")
    wait_for_status(page, copy_id, "Down")  # the copy is done: no reload

    # A taken name: the dialog stays open, says why, and keeps the name typed.
    page.goto(service.url + f"/admin/vms/{vm_id}")
    more(page, "Clone…")
    page.fill("#clone-name", "act-copy")
    dialog.get_by_role("button", name="Clone").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("alert")).to_contain_text("already used by another VM")
    expect(page.locator("#clone-name")).to_have_value("act-copy")
    shot(page, "clone-refused")
    dialog.get_by_role("button", name="Cancel").click()

    more(page, "Make template…")
    page.fill("#template-name", "act-template")
    page.locator("dialog#make-template").get_by_role("button", name="Make template").click()
    expect(page.locator(".flash.success")).to_contain_text("Template act-template is being made")
    wait_for_status(page, vm_id, "Down")
    page.goto(service.url + "/admin/templates")
    template_row = page.locator("tr", has_text="act-template")
    expect(template_row).to_contain_text("Ok", timeout=LONG)
    page.reload()
    template_row.get_by_role("button", name="Export act-template as an OVA").click()
    page.fill("#export-template-directory", str(host_dir))
    page.locator("dialog#export-template").get_by_role("button", name="Export").click()
    expect(page.locator(".flash.success")).to_contain_text("Exporting template act-template")
    deadline = time.monotonic() + LONG / 1000
    while not (host_dir / "act-template.ova").is_file() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert (host_dir / "act-template.ova").is_file()
    template_row.get_by_role("button", name="Export act-template as an OVA").click()
    page.fill("#export-template-directory", str(host_dir))
    page.locator("dialog#export-template").get_by_role("button", name="Export").click()
    expect(page.locator("dialog#export-template").get_by_role("alert")).to_contain_text(
        "already exists")  # the same file again: refused in place

    page.goto(service.url + f"/admin/vms/{vm_id}")
    more(page, "Export as OVA…")
    page.fill("#export-directory", str(host_dir))
    page.locator("dialog#export-vm").get_by_role("button", name="Export").click()
    expect(page.locator(".flash.success")).to_contain_text("VM act-src is being exported")
    wait_for_status(page, vm_id, "Down")
    ova = host_dir / "act-src.ova"
    assert ova.is_file() and ova.stat().st_size > 0

    page.goto(service.url + "/admin/vms")
    page.get_by_role("button", name="Import OVA…").click()
    page.fill("#ova-path", str(ova))
    page.fill("#ova-name", "act-imported")
    page.locator("dialog#import-ova").get_by_role("button", name="Import").click()
    expect(page.locator("main h1")).to_have_text("act-imported")
    expect(page.locator(".flash.success")).to_contain_text("Importing act-src.ova")
    imported = page.url.rsplit("/", 1)[1]
    wait_for_status(page, imported, "Down")
    expect(page.locator("section", has_text="Disks").locator("tbody tr")).to_have_count(1)

    # A path that is no OVA: the dialog says so and keeps it.
    page.goto(service.url + "/admin/vms")
    page.get_by_role("button", name="Import OVA…").click()
    page.fill("#ova-path", str(host_dir / "nothing.ova"))
    page.locator("dialog#import-ova").get_by_role("button", name="Import").click()
    expect(page.locator("dialog#import-ova").get_by_role("alert")).to_contain_text("not a file")
    expect(page.locator("#ova-path")).to_have_value(str(host_dir / "nothing.ova"))


def test_snapshots_with_and_without_memory(admin: Page, service: Service) -> None:
    page = admin
    vm_id = create_vm(page, service, "act-snap", start=True)
    service.wait_guest_ready(vm_id, timeout=240)  # its power button answers
    page.goto(service.url + f"/admin/vms/{vm_id}")
    snapshots = page.locator("section", has=page.locator("#snapshots-title"))
    snapshots.get_by_label("Snapshot description").fill("running")
    snapshots.get_by_label("With memory").check()
    snapshots.get_by_role("button", name="Take snapshot").click()
    expect(page.locator(".flash.success")).to_contain_text("with the guest's memory")
    expect(snapshots.locator("tr[data-snapshot='running']")).to_contain_text("Saved")

    page.get_by_role("button", name="Shut down").click()
    wait_for_status(page, vm_id, "Down")
    page.reload()
    snapshots.get_by_label("Snapshot description").fill("cold")
    snapshots.get_by_role("button", name="Take snapshot").click()
    cold = snapshots.locator("tr[data-snapshot='cold']")
    expect(cold).to_be_visible()

    # Preview, then undo: the disks are as they were.
    cold.get_by_role("button", name="Preview").click()
    banner = snapshots.locator("[data-previewing]")
    expect(banner).to_contain_text("The disks show snapshot cold")
    shot(page, "snapshot-preview")
    banner.get_by_role("button", name="Undo").click()
    expect(page.locator(".flash.success")).to_contain_text("preview was undone")
    expect(banner).to_have_count(0)

    # Preview with memory and commit: the later snapshot goes, Run resumes the guest.
    running = snapshots.locator("tr[data-snapshot='running']")
    running.get_by_role("button", name="Preview with memory").click()
    expect(page.locator(".flash.success")).to_contain_text("resumes the guest")
    accept_next_confirm(page)
    banner.get_by_role("button", name="Commit").click()
    expect(page.locator(".flash.success")).to_contain_text("previewed snapshot was kept")
    expect(cold).to_have_count(0)
    page.get_by_role("button", name="Run").click()
    wait_for_status(page, vm_id, "Up")

    page.get_by_role("button", name="More").click()
    accept_next_confirm(page)
    page.get_by_role("button", name="Power off").click()
    wait_for_status(page, vm_id, "Down")
    page.reload()
    accept_next_confirm(page)
    running.get_by_role("button", name="Restore").click()
    expect(page.locator(".flash.success")).to_contain_text("restored to the snapshot")
    accept_next_confirm(page)
    running.get_by_role("button", name="Remove").click()
    expect(page.locator(".flash.success")).to_contain_text("snapshot was removed")
    expect(snapshots).to_contain_text("No snapshots.")


def test_disks_nics_ha_and_affinity(admin: Page, service: Service) -> None:
    page = admin
    vm_id = create_vm(page, service, "act-dev")
    page.goto(service.url + f"/admin/vms/{vm_id}")
    disks = page.locator("section", has=page.locator("#disks-title"))

    disks.get_by_role("button", name="Add disk…").click()
    page.fill("#disk-size", "1")
    page.locator("dialog#disk-add").get_by_role("button", name="Add").click()
    expect(page.locator(".flash.success")).to_contain_text("Disk act-dev_disk2 was added")
    row = disks.locator("tr[data-disk='act-dev_disk2']")
    expect(row).to_contain_text("1.0 GiB")
    row.get_by_role("button", name="Grow act-dev_disk2").click()
    expect(page.locator("#resize-disk option:checked")).to_contain_text("act-dev_disk2")
    page.fill("#resize-size", "2.5")
    page.locator("dialog#disk-resize").get_by_role("button", name="Grow").click()
    expect(row).to_contain_text("2.5 GiB")
    row.get_by_role("button", name="Detach act-dev_disk2").click()
    page.locator("dialog#disk-detach").get_by_label("Also remove the disk").check()
    page.locator("dialog#disk-detach").get_by_role("button", name="Detach").click()
    expect(page.locator(".flash.success")).to_contain_text("detached and removed")
    expect(row).to_have_count(0)

    nics = page.locator("section", has=page.locator("#nics-title"))
    nics.get_by_role("button", name="Add NIC…").click()
    expect(page.locator("#nic-name")).to_have_value("nic2")
    page.locator("#nic-model").select_option(label="e1000")
    page.locator("dialog#nic-add").get_by_role("button", name="Add").click()
    nic2 = nics.locator("tr", has_text="nic2")
    expect(nic2).to_contain_text("e1000")
    accept_next_confirm(page)
    nic2.get_by_role("button", name="Remove").click()
    expect(nic2).to_have_count(0)

    general = page.locator("section", has_text="General")
    general.locator("dd", has_text="Off").get_by_role("button", name="Change…").click()
    page.locator("dialog#high-availability").get_by_label("Highly available").check()
    page.locator("dialog#high-availability").get_by_role("button", name="Save").click()
    expect(general).to_contain_text("On: restarted if it fails")

    groups = page.locator("section", has=page.locator("#affinity-title"))
    groups.get_by_role("button", name="Add to a group…").click()
    page.fill("#group-name", "act-apart")
    page.locator("dialog#affinity-join").get_by_role("button", name="Add").click()
    group = groups.locator("tr", has_text="act-apart")
    expect(group).to_contain_text("Apart (negative), enforcing")
    accept_next_confirm(page)
    group.get_by_role("button", name="Leave").click()
    expect(groups).to_contain_text("In no affinity group.")
    shot(page, "vm-devices")


def test_cdrom_and_disk_change_while_running(admin: Page, service: Service,
                                            tmp_path: Path) -> None:
    import subprocess

    page = admin
    root = tmp_path / "root"
    root.mkdir()
    (root / "README.TXT").write_text("VirtStick live CD change\n")
    iso = tmp_path / "live-change.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(root)],
                   check=True, capture_output=True)
    page.goto(service.url + "/admin/isos")
    page.set_input_files("#iso-file", str(iso))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("tr", has_text="live-change")).to_contain_text("Ok", timeout=30_000)

    vm_id = create_vm(page, service, "act-live", start=True)
    page.goto(service.url + f"/admin/vms/{vm_id}")
    wait_for_status(page, vm_id, "Up")
    general = page.locator("section", has_text="General")
    general.locator("dd", has_text="empty").get_by_role("button", name="Change…").click()
    option = page.locator("#cdrom-iso option", has_text="live-change")
    page.locator("#cdrom-iso").select_option(value=option.get_attribute("value"))
    page.locator("dialog#cdrom").get_by_role("button", name="Change").click()
    expect(page.locator(".flash.success")).to_contain_text("is in the CD-ROM of VM act-live now")
    expect(general).to_contain_text("live-change")
    source = live_xml(vm_id).find("devices/disk[@device='cdrom']/source")
    assert source is not None and source.get("file")  # the running QEMU has the disc

    disks = page.locator("section", has=page.locator("#disks-title"))
    disks.get_by_role("button", name=re.compile("^Grow ")).first.click()
    page.fill("#resize-size", "1")
    page.locator("dialog#disk-resize").get_by_role("button", name="Grow").click()
    expect(page.locator(".flash.success")).to_contain_text("now has 1.0 GiB")
    conn = libvirt.open("qemu:///system")
    try:
        target = live_xml(vm_id).find("devices/disk[@device='disk']/target")
        assert target is not None
        assert conn.lookupByUUIDString(vm_id).blockInfo(target.get("dev", ""))[0] == 1 << 30
    finally:
        conn.close()

    # Power off asks first: declined, the VM keeps running.
    page.get_by_role("button", name="More").click()
    asked: list[str] = []

    def decline(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    page.get_by_role("button", name="Power off").click()
    deadline = time.monotonic() + 5
    while not asked and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert asked and "pulling the plug" in asked[0]
    wait_for_status(page, vm_id, "Up")
    accept_next_confirm(page)
    page.get_by_role("button", name="Power off").click()  # the menu is still open
    wait_for_status(page, vm_id, "Down")


def test_a_user_clones_and_changes_her_own_vm(admin_session: Page, service: Service,
                                              browser: Browser) -> None:
    password = "bob-password-12"
    mine = create_vm(admin_session, service, "bobs-vm")
    post(admin_session, service, "/admin/users", name="bob", password=password,
         role="UserRole")
    admin_session.goto(service.url + "/admin/users")
    row = admin_session.locator("[data-user-row='bob@internal']")
    grant = row.locator("form", has=admin_session.locator("select[name=vm_id]"))
    grant.locator("select").select_option(label="bobs-vm")
    grant.get_by_role("button", name="Give VM").click()

    context = browser.new_context(viewport=VIEWPORT)
    bob = context.new_page()
    log_in(bob, service, "bob@internal", password)
    bob.goto(service.url + f"/user/vms/{mine}")
    expect(bob.get_by_role("button", name="Make template…")).to_have_count(0)
    disks = bob.locator("section", has=bob.locator("#disks-title"))
    disks.get_by_role("button", name="Add disk…").click()
    bob.fill("#disk-size", "0.5")
    bob.locator("dialog#disk-add").get_by_role("button", name="Add").click()
    expect(disks.locator("tr[data-disk='bobs-vm_disk2']")).to_contain_text("512.0 MiB")
    bob.get_by_role("button", name="More").click()
    bob.get_by_role("button", name="Clone…").click()
    bob.fill("#clone-name", "bobs-copy")
    bob.locator("dialog#clone-vm").get_by_role("button", name="Clone").click()
    expect(bob.locator("main h1")).to_have_text("bobs-copy")
    copy_id = bob.url.rsplit("/", 1)[1]
    wait_for_status(bob, copy_id, "Down")
    shot(bob, "user-clone")
    bob.goto(service.url + "/user/")
    expect(bob.locator(f"[data-vm-row='{copy_id}']")).to_be_visible()  # hers now
    context.close()
