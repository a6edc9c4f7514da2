"""The VM page's forms and the VM list through Flask's client over a real engine: a refused
form comes back in its dialog with the engine's message and what was typed; the forms change
the VM; the User Portal offers only what a user may do; the list sorts 500 VMs, acts on the
ticked ones and names each result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import html

from appliance.cli import development_config
from appliance.engine.authz import SYSTEM
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.grants import ObjectType
from appliance.engine.model import GiB, MiB, Vm
from appliance.engine.users import ADMIN_USER_ID
from appliance.engine.vm_provisioning import NewVm
from appliance.engine.vms import VmCreate
from appliance.web import create_app

CSRF = {"csrf_token": "vm-forms-test"}


@pytest.fixture
def engine(state_dir: Path, domain_prefix: str) -> Iterator[Engine]:
    engine = Engine(development_config(state_dir).replace(
        appliance={"virt_type": "qemu", "domain_prefix": domain_prefix, "demo_disk": ""}))
    engine.start()
    yield engine
    engine.stop()


def _client(engine: Engine, user_id: str) -> FlaskClient:
    client = create_app(engine).test_client()
    with client.session_transaction() as session:
        session["token"] = engine.users.issue_token(engine.users.actor(user_id))
        session["csrf_token"] = CSRF["csrf_token"]
    return client


@pytest.fixture
def client(engine: Engine) -> FlaskClient:
    return _client(engine, ADMIN_USER_ID)


def _vm(engine: Engine, name: str, *, memory: int = 64, disk: int = GiB) -> Vm:
    return engine.vm_provisioning.create(NewVm(name=name, memory=memory * MiB, disk_size=disk),
                                         actor=SYSTEM)


def _page(text: str) -> html.HtmlElement:
    return html.fromstring(text)


# (form, fields, dialog id, the engine's words, a typed field that must come back)
REFUSALS = [
    ("clone", {"name": "bad name"}, "clone-vm", "not a valid VM name", "name"),
    ("make-template", {"name": "", "description": "typed by hand"}, "make-template",
     "needs a name", "description"),
    ("export", {"directory": "relative/dir", "filename": "mine.ova"}, "export-vm",
     "not an existing absolute directory", "filename"),
    ("migrate", {"host_id": ""}, "migrate-vm", "only a VM that is up can be migrated", None),
    ("edit", {"name": "renamed", "memory_mib": "lots"}, "edit-vm",
     "Memory must be a whole number", "name"),
    ("disk-add", {"size_gib": "-1", "name": "extra"}, "disk-add", "more than zero", "name"),
    ("disk-resize", {"size_gib": "0.5"}, "disk-resize", "disks only grow", "size_gib"),
    ("nic-add", {"name": "bad name"}, "nic-add", "not a valid NIC name", "name"),
    ("affinity-join", {"group": "", "kind": "positive"}, "affinity-join", "needs a name",
     None),
    ("cdrom", {"iso_id": "no-such-iso"}, "cdrom", "There is no ISO image", None),
]


@pytest.mark.parametrize(("form", "fields", "dialog_id", "words", "kept"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_a_refused_form_comes_back_in_its_dialog(engine: Engine, client: FlaskClient,
                                                 form: str, fields: dict[str, str],
                                                 dialog_id: str, words: str,
                                                 kept: str | None) -> None:
    vm = _vm(engine, "refused")
    if form == "disk-resize":
        [disk] = engine.inventory.get_vm_details(vm.id, actor=SYSTEM).disks
        fields = {**fields, "disk_id": disk.disk.id}
    before = engine.inventory.get_vm_details(vm.id, actor=SYSTEM)
    response = client.post(f"/admin/vms/{vm.id}/{form}", data={**CSRF, **fields})
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    [dialog] = _page(response.get_data(as_text=True)).xpath(f"//dialog[@id='{dialog_id}']")
    assert dialog.get("data-open-now") is not None
    assert words in dialog.xpath(".//*[@role='alert']")[0].text_content()
    if kept is not None:
        [field] = dialog.xpath(f".//*[@name='{kept}']")
        assert field.get("value") == fields[kept]
    after = engine.inventory.get_vm_details(vm.id, actor=SYSTEM)
    assert (after.vm, after.disks, after.nics) == (before.vm, before.disks, before.nics)


def test_the_forms_change_the_vm(engine: Engine, client: FlaskClient) -> None:
    vm = _vm(engine, "changed")

    def send(form: str, **fields: str) -> str:
        response = client.post(f"/admin/vms/{vm.id}/{form}", data={**CSRF, **fields},
                               follow_redirects=True)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return " ".join(_page(response.get_data(as_text=True)).xpath(
            "//*[contains(@class, 'flash success')]//text()"))

    assert "Disk data1 was added." in send("disk-add", size_gib="2", name="data1")
    details = engine.inventory.get_vm_details(vm.id, actor=SYSTEM)
    data1 = next(d.disk for d in details.disks if d.disk.name == "data1")
    assert "now has 3.5 GiB" in send("disk-resize", disk_id=data1.id, size_gib="3.5")
    assert "stays on the Disks page" in send("disk-detach", disk_id=data1.id)
    assert "NIC nic2 was added" in send("nic-add", name="nic2", interface="e1000")
    nic2 = next(n.nic for n in engine.inventory.get_vm_details(vm.id, actor=SYSTEM).nics
                if n.nic.name == "nic2")
    assert "The NIC was removed." in send("nic-remove", nic_id=nic2.id)
    assert "now highly available" in send("high-availability", high_availability="1")
    assert "is in affinity group apart" in send("affinity-join", group="apart", enforcing="1")
    assert "left affinity group apart" in send("affinity-leave", group="apart")
    assert "'before' was taken" in send("snapshot", description="before")
    [snapshot] = engine.snapshots.list(vm.id, actor=SYSTEM)
    assert "shows snapshot 'before'" in send("snapshot-preview", snapshot_id=snapshot.id)
    assert "The preview was undone" in send("snapshot-undo")
    assert "restored to the snapshot" in send("snapshot-restore", snapshot_id=snapshot.id)
    assert "The snapshot was removed." in send("snapshot-remove", snapshot_id=snapshot.id)

    current = engine.vms.get(vm.id, actor=SYSTEM)
    assert current.high_availability and current.status is VmStatus.DOWN
    assert engine.inventory.get_vm_details(vm.id, actor=SYSTEM).nics == ()
    assert engine.snapshots.list(vm.id, actor=SYSTEM) == []
    response = client.post(f"/admin/vms/{vm.id}/clone", data={**CSRF, "name": "changed-2"})
    clone = engine.vms.find_by_name("changed-2", actor=SYSTEM)
    assert clone is not None and response.headers["Location"].endswith(f"/admin/vms/{clone.id}")


def test_the_user_portal_offers_only_what_a_user_may_do(engine: Engine) -> None:
    user = engine.users.create_user("dora@internal", "a long passphrase 1", actor=SYSTEM)
    mine, other = _vm(engine, "doras"), _vm(engine, "not-doras")
    engine.users.grant(user_id=user.id, role_id=engine.roles.named("UserRole").id,
                       object_type=ObjectType.VM, object_id=mine.id, actor=SYSTEM)
    dora = _client(engine, user.id)
    page = _page(dora.get(f"/user/vms/{mine.id}").get_data(as_text=True))
    assert page.xpath("//dialog[@id='clone-vm']") and page.xpath("//dialog[@id='disk-add']")
    assert not page.xpath("//dialog[@id='make-template']")
    for form in ("make-template", "export", "migrate", "edit", "delete", "affinity-join"):
        assert dora.post(f"/user/vms/{mine.id}/{form}", data=CSRF).status_code == 404, form
    added = dora.post(f"/user/vms/{mine.id}/disk-add", data={**CSRF, "size_gib": "1"},
                      follow_redirects=True)
    assert "Disk doras_disk2 was added." in added.get_data(as_text=True)
    refused = dora.post(f"/user/vms/{other.id}/disk-add", data={**CSRF, "size_gib": "1"})
    assert refused.status_code == 404
    assert len(engine.inventory.get_vm_details(other.id, actor=SYSTEM).disks) == 1


def test_the_list_sorts_500_vms_on_the_server(engine: Engine, client: FlaskClient) -> None:
    cluster = engine.clusters.default().id
    for n in range(500):
        engine.vms.create(VmCreate(name=f"vm-{n:03d}", cluster_id=cluster,
                                   memory=(16 + n % 7 * 16) * MiB), actor=SYSTEM)
    page = _page(client.get("/admin/vms?sort=memory&dir=desc").get_data(as_text=True))
    [memory] = page.xpath("//th[a[normalize-space(text())='Memory']]")
    assert memory.get("aria-sort") == "descending"
    assert len(page.xpath("//th[@aria-sort]")) == 1
    shown = [td.text_content() for td in page.xpath("//tbody/tr[@data-vm-row]/td[6]")]
    # The 71 largest first, then the next size down.
    assert shown == ["112.0 MiB"] * 71 + ["96.0 MiB"] * 29
    names = [a.text_content() for a in page.xpath("//tbody/tr[@data-vm-row]/td[2]/a")]
    assert names[:71] == sorted(names[:71]) and names[0] == "vm-006"  # ties go by name
    # The pager and the header's link keep the order; the header turns it around.
    assert page.xpath("//nav[@aria-label='Pages of VMs']//a[contains(@href, 'sort=memory')"
                      " and contains(@href, 'dir=desc')]")
    assert "dir=desc" not in memory.xpath("a")[0].get("href")
    last = _page(client.get("/admin/vms?sort=memory&dir=desc&page=5").get_data(as_text=True))
    assert [td.text_content() for td in last.xpath("//tbody/tr[@data-vm-row]/td[6]")] \
        == ["32.0 MiB"] * 28 + ["16.0 MiB"] * 72
    assert client.get("/admin/vms?sort=owner").status_code == 400
    # The tree beside it names the first 50 VMs of the big branch, folded; the list has all.
    [idle] = page.xpath("//nav[@aria-label='Resource tree']//details[summary[contains(., "
                        "'Not running')]]")
    assert idle.get("open") is None and len(idle.xpath(".//a[@data-tree-vm]")) == 50
    assert "450 more in the list" in idle.text_content()


def test_bulk_actions_say_how_each_vm_went(engine: Engine, client: FlaskClient) -> None:
    vms = [_vm(engine, f"bulk-{n}", disk=0) for n in range(3)]
    engine.vms.start(vms[0].id, actor=SYSTEM)
    ids = [v.id for v in vms]
    try:
        response = client.post("/admin/vms/bulk", data={**CSRF, "bulk": "start", "vm_id": ids})
        results = {li.get("data-result"): li for li in _page(
            response.get_data(as_text=True)).xpath("//section[contains(@class,'bulk-results')]//li")}
        assert "only a VM that is down or suspended can be started" in \
            results["bulk-0"].text_content()
        assert "refused" in results["bulk-0"].get("class")
        assert results["bulk-1"].text_content().endswith("VM bulk-1 is starting.")
        assert all(engine.vms.get(i, actor=SYSTEM).status is VmStatus.UP for i in ids)
    finally:
        for vm_id in ids:
            engine.vms.stop(vm_id, actor=SYSTEM)

    # Remove asks first, naming the VMs; nothing goes until it is confirmed.
    asked = _page(client.post("/admin/vms/bulk", data={**CSRF, "bulk": "remove",
                                                       "vm_id": ids[:2]}).get_data(as_text=True))
    [dialog] = asked.xpath("//dialog[@id='bulk-remove']")
    assert dialog.get("data-open-now") is not None
    assert [li.text_content() for li in dialog.xpath(".//li")] == ["bulk-0", "bulk-1"]
    assert len(engine.inventory.list_vm_names(actor=SYSTEM)) == 3
    done = _page(client.post("/admin/vms/bulk", data={**CSRF, "bulk": "remove", "confirmed": "1",
                                                      "vm_id": ids[:2]}).get_data(as_text=True))
    assert "2 of 2 done" in done.xpath("//section[contains(@class,'bulk-results')]")[0]\
        .text_content()
    assert list(engine.inventory.list_vm_names(actor=SYSTEM).values()) == ["bulk-2"]


def test_hosts_words_and_the_last_host_warning(engine: Engine, client: FlaskClient) -> None:
    vm = _vm(engine, "keeps-host-busy", disk=0)
    engine.vms.start(vm.id, actor=SYSTEM)
    try:
        page = _page(client.get("/admin/hosts").get_data(as_text=True))
        [maintenance] = page.xpath("//form[contains(@action, '/maintenance')]")
        assert "the last host up" in maintenance.get("data-confirm")
        assert "shuts it down" in maintenance.get("data-confirm")
        options = page.xpath("//select[@name='policy']/option/text()")
        assert "Evenly distributed" in options and "VM evenly distributed" in options
    finally:
        engine.vms.stop(vm.id, actor=SYSTEM)
    page = _page(client.get("/admin/hosts").get_data(as_text=True))
    [maintenance] = page.xpath("//form[contains(@action, '/maintenance')]")
    assert maintenance.get("data-confirm") is None  # nothing would be shut down
    refused = client.post("/admin/labhosts", data={**CSRF, "name": "lab x", "memory_mib": "many"})
    assert refused.status_code == 400
    text = _page(refused.get_data(as_text=True))
    assert "whole number of MiB" in text.xpath("//*[@role='alert']")[0].text_content()
    assert text.xpath("//input[@name='name']")[0].get("value") == "lab x"


def test_events_name_their_vm(engine: Engine, client: FlaskClient) -> None:
    kept, gone = _vm(engine, "named", disk=0), _vm(engine, "gone-now", disk=0)
    engine.vms.remove(gone.id, actor=SYSTEM)
    page = _page(client.get("/admin/events").get_data(as_text=True))
    links = page.xpath(f"//td/a[@href='/admin/vms/{kept.id}']/text()")
    assert links and set(links) == {"named"}
    assert "a removed VM" in page.text_content()


def test_a_refused_new_user_keeps_all_but_the_password(engine: Engine,
                                                       client: FlaskClient) -> None:
    response = client.post("/admin/users", data={**CSRF, "name": "bad name", "password": "pw",
                                                 "email": "x@example.org", "role": "UserRole"})
    assert response.status_code == 400
    [dialog] = _page(response.get_data(as_text=True)).xpath("//dialog[@id='new-user']")
    assert dialog.get("data-open-now") is not None and dialog.xpath(".//*[@role='alert']")
    assert dialog.xpath(".//input[@name='name']")[0].get("value") == "bad name"
    assert dialog.xpath(".//input[@name='email']")[0].get("value") == "x@example.org"
    assert dialog.xpath(".//input[@name='password']")[0].get("value") is None
