"""Every Admin Portal page renders for the admin, answers by keyboard, and is shot for the
record; a VM is edited through its dialog."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from appliance.engine.model import BLANK_TEMPLATE_ID
from tests.webui.conftest import post, shot
from tests.webui.service import Service

PAGES = [
    ("/admin/", "Dashboard"),
    ("/admin/vms", "Virtual Machines"),
    ("/admin/templates", "Templates"),
    ("/admin/hosts", "Hosts"),
    ("/admin/storage", "Storage Domains"),
    ("/admin/disks", "Disks"),
    ("/admin/isos", "ISO Images"),
    ("/admin/networks", "Networks"),
    ("/admin/events", "Events"),
    ("/admin/jobs", "Jobs"),
    ("/admin/users", "Users & Permissions"),
]


@pytest.mark.parametrize(("path", "title"), PAGES, ids=[p for p, _ in PAGES])
def test_admin_page(admin: Page, service: Service, path: str, title: str) -> None:
    response = admin.goto(service.url + path)
    assert response is not None and response.status == 200
    expect(admin.locator("main h1")).to_have_text(title)
    expect(admin.locator(".sidenav a[aria-current='page']")).to_have_count(1)
    name = path.strip("/").replace("admin/", "").replace("admin", "dashboard") or "dashboard"
    shot(admin, f"admin-{name}")


def test_keyboard_reaches_the_content(admin: Page, service: Service) -> None:
    admin.goto(service.url + "/admin/vms")
    admin.keyboard.press("Tab")
    skip = admin.locator(".skip")
    expect(skip).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.locator("main#content")).to_be_focused()


def test_search_filters_the_vm_list(admin: Page, service: Service) -> None:
    for name in ("search-alpha", "search-beta"):
        post(admin, service, "/admin/vms", name=name, template_id=BLANK_TEMPLATE_ID,
             memory_mib="64", disk_gib="0")
    admin.goto(service.url + "/admin/vms")
    admin.fill("#vm-search", "alpha")
    expect(admin.locator("tr[data-search*='search-alpha']")).to_be_visible()
    expect(admin.locator("tr[data-search*='search-beta']")).to_be_hidden()
    admin.goto(service.url + "/admin/vms?q=beta")
    expect(admin.locator("tr[data-search*='search-beta']")).to_be_visible()
    expect(admin.locator("tr[data-search*='search-alpha']")).to_have_count(0)


def test_edit_a_vm(admin: Page, service: Service) -> None:
    url = post(admin, service, "/admin/vms", name="editable", template_id=BLANK_TEMPLATE_ID,
               memory_mib="64", disk_gib="1")
    admin.goto(url)
    admin.get_by_role("button", name="Edit", exact=True).click()
    dialog = admin.locator("dialog#edit-vm")
    dialog.locator("#edit-name").fill("edited")
    dialog.locator("#edit-description").fill("changed in the portal")
    dialog.locator("#edit-memory").fill("96")
    dialog.locator("#edit-cpus").fill("2")
    shot(admin, "edit-vm-dialog")
    dialog.get_by_role("button", name="Save").click()
    expect(admin.locator(".flash.success")).to_contain_text("VM edited was saved")
    expect(admin.locator("main h1")).to_have_text("edited")
    general = admin.locator("section", has_text="General")
    expect(general).to_contain_text("96.0 MiB")
    expect(general).to_contain_text("changed in the portal")
    expect(general).to_contain_text("2 (2 sockets")


def test_upload_an_iso_and_put_it_in_a_new_vm(admin: Page, service: Service,
                                              tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "README.TXT").write_text("VirtStick portal upload\n")
    iso = tmp_path / "portal-install.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(root)],
                   check=True, capture_output=True)
    admin.goto(service.url + "/admin/isos")
    admin.set_input_files("#iso-file", str(iso))
    admin.get_by_role("button", name="Upload").click()
    row = admin.locator("tr", has_text="portal-install")
    expect(row).to_contain_text("Ok", timeout=30_000)
    shot(admin, "admin-isos")

    admin.goto(service.url + "/admin/vms")
    admin.get_by_role("button", name="New VM").click()
    admin.fill("#vm-name", "from-iso")
    admin.locator("#vm-template").select_option(label="Blank")
    admin.fill("#vm-disk", "2")
    iso_option = admin.locator("#vm-iso option", has_text="portal-install")
    admin.locator("#vm-iso").select_option(value=iso_option.get_attribute("value"))
    admin.get_by_label("CD-ROM (ISO), then disk").check()
    admin.locator("dialog#new-vm").get_by_role("button", name="Create").click()
    general = admin.locator("section", has_text="General")
    expect(general).to_contain_text("portal-install")
    expect(general).to_contain_text("CD-ROM, Disk")


def test_upload_a_qcow2_disk_image_through_an_image_transfer(admin: Page, service: Service,
                                                             tmp_path: Path) -> None:
    image = tmp_path / "portal-disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "40M"], check=True)
    subprocess.run(["qemu-io", "-c", "write -P 0x2a 1M 12M", str(image)], check=True,
                   capture_output=True)
    admin.goto(service.url + "/admin/disks")
    admin.set_input_files("#disk-file", str(image))
    admin.locator("#disk-upload").get_by_role("button", name="Upload").click()
    row = admin.locator("tr", has_text="portal-disk")
    expect(row).to_contain_text("Ok", timeout=60_000)
    expect(row).to_contain_text("40.0 MiB")
    expect(row).to_contain_text("QCOW2")  # words, not the id "cow"


def test_a_damaged_disk_image_is_refused_and_leaves_no_disk(admin: Page, service: Service,
                                                            tmp_path: Path) -> None:
    image = tmp_path / "broken-disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "8M"], check=True)
    data = bytearray(image.read_bytes())
    data[40:48] = b"\xff" * 8  # the L1 table's offset points far outside the file
    image.write_bytes(bytes(data))
    admin.goto(service.url + "/admin/disks")
    admin.set_input_files("#disk-file", str(image))
    admin.locator("#disk-upload").get_by_role("button", name="Upload").click()
    expect(admin.locator("#disk-message")).to_contain_text("The upload failed",
                                                           timeout=60_000)
    admin.goto(service.url + "/admin/disks")
    expect(admin.locator("tr", has_text="broken-disk")).to_have_count(0)


def test_the_vm_list_pages_by_100(admin: Page, service: Service) -> None:
    admin.goto(service.url + "/admin/vms")
    before = admin.locator("#vm-table tbody tr[data-vm-row]").count()
    for n in range(101 - before):
        post(admin, service, "/admin/vms", name=f"page-{n:03d}", template_id=BLANK_TEMPLATE_ID,
             memory_mib="64", disk_gib="0")
    admin.goto(service.url + "/admin/vms")
    expect(admin.locator("#vm-table tbody tr[data-vm-row]")).to_have_count(100)
    pager = admin.get_by_role("navigation", name="Pages of VMs")
    expect(pager).to_contain_text("1–100 of 101")
    pager.get_by_role("link", name="Next").click()
    expect(admin.locator("#vm-table tbody tr[data-vm-row]")).to_have_count(1)


def test_a_refused_new_vm_says_why_in_its_dialog(admin: Page, service: Service) -> None:
    """A taken name, then more memory than the host has: each time the dialog stays open
    with the engine's reason, and what was typed is still there."""
    post(admin, service, "/admin/vms", name="taken-name", template_id=BLANK_TEMPLATE_ID,
         memory_mib="64", disk_gib="0")
    admin.goto(service.url + "/admin/vms")
    admin.get_by_role("button", name="New VM").click()
    dialog = admin.locator("dialog#new-vm")
    huge = str(64 * 1024 * 1024)  # MiB: 64 TiB
    for name, memory, reason in [("taken-name", "64", "already used by another VM"),
                                 ("too-big", huge, "the largest host in its cluster has")]:
        admin.fill("#vm-name", name)
        admin.locator("#vm-template").select_option(label="Blank")
        admin.fill("#vm-memory", memory)
        admin.fill("#vm-description", "typed by hand")
        with admin.expect_response(lambda r: r.request.method == "POST") as answer:
            dialog.get_by_role("button", name="Create").click()
        assert answer.value.status == 409
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("alert")).to_contain_text(reason)
        expect(admin.locator("#vm-name")).to_have_value(name)
        expect(admin.locator("#vm-memory")).to_have_value(memory)
        expect(admin.locator("#vm-description")).to_have_value("typed by hand")
        expect(admin.locator("#vm-template option:checked")).to_have_text("Blank")
        shot(admin, f"new-vm-refused-{name}")
    admin.goto(service.url + "/admin/vms?q=too-big")
    expect(admin.locator("#vm-table tbody tr[data-vm-row]")).to_have_count(0)
