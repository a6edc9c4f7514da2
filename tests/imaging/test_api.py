"""Image management through the REST API (in-process Flask client on a real engine): OVA
export and import, clone, template from VM, snapshot actions, ISO upload and CD-ROM."""

from __future__ import annotations

import hashlib
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask.testing import FlaskClient

from appliance.engine.engine import Engine
from appliance.engine.enums import DiskContentType, JobStatus, VmStatus
from appliance.engine.model import Template
from appliance.security.passwords import hash_password
from appliance.web import create_app
from tests import sandbox
from tests.imaging.conftest import Lab, make_data_template, qemu_io, stop_engine
from tests.imaging.test_isos import small_iso

API = "/ovirt-engine/api"
PASSWORD = "imaging-secret"


@dataclass
class Api:
    lab: Lab
    client: FlaskClient
    token: str

    def call(self, method: str, path: str, body: str | bytes | None = None, *,
             content_type: str = "application/xml", status: int = 200) -> ET.Element:
        reply = self.client.open(f"{API}{path}", method=method, data=body, headers={
            "Authorization": f"Bearer {self.token}", "Version": "4",
            "Accept": "application/xml", "Content-Type": content_type})
        assert reply.status_code == status, reply.get_data(as_text=True)
        text = reply.get_data()
        return ET.fromstring(text) if text.strip() else ET.Element("empty")

    def wait_job(self, action: ET.Element) -> None:
        job = self.lab.engine.jobs.wait(_id_of(action, "job"), 300)
        assert job.status is JobStatus.FINISHED, job.error


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    from appliance.cli import development_config

    prefix = f"img{secrets.token_hex(3)}-"
    directory = sandbox.state_dir(prefix)
    config = development_config(directory).replace(
        appliance={"virt_type": "qemu", "domain_prefix": prefix, "demo_disk": ""},
        auth={"admin_password_hash": hash_password(PASSWORD)})
    engine = Engine(config)
    try:
        engine.start()
        client = create_app(engine).test_client()
        reply = client.post("/ovirt-engine/sso/oauth/token", data={
            "grant_type": "password", "scope": "ovirt-app-api",
            "username": "admin@internal", "password": PASSWORD},
            headers={"Accept": "application/json"})
        yield Api(Lab(engine, directory, prefix), client, reply.get_json()["access_token"])
    finally:
        stop_engine(engine, prefix)
        shutil.rmtree(directory, ignore_errors=True)


def _template(api: Api, tmp_path: Path) -> Template:
    return make_data_template(api.lab, tmp_path)


def _id_of(answer: ET.Element, child: str) -> str:
    """The id of the answer's ``child`` element, which it must carry."""
    found = answer.find(child)
    value = None if found is None else found.get("id")
    assert value is not None, ET.tostring(answer, encoding="unicode")
    return value


def test_template_clone_snapshot_export_import(api: Api, tmp_path: Path) -> None:
    lab = api.lab
    vm = lab.vm("apivm", _template(api, tmp_path))
    qemu_io(lab.volume_path(vm.id), "write -P 0x42 1M 64k")

    snapshot = api.call("POST", f"/vms/{vm.id}/snapshots",
                        "<snapshot><description>s1</description></snapshot>", status=201)
    qemu_io(lab.volume_path(vm.id), "write -P 0x43 1M 64k")
    api.call("POST", f"/vms/{vm.id}/previewsnapshot",
             f'<action><snapshot id="{snapshot.get("id")}"/></action>')
    api.call("POST", f"/vms/{vm.id}/undosnapshot", "<action/>")

    clone = api.call("POST", f"/vms/{vm.id}/clone",
                     f"<action><vm><name>{lab.prefix}apiclone</name></vm></action>")
    api.wait_job(clone)
    clone_id = _id_of(clone, "vm")
    assert lab.engine.ctx.store.vms.get(clone_id).status is VmStatus.DOWN
    qemu_io(lab.volume_path(clone_id), "read -P 0x43 1M 64k")

    template = api.call("POST", "/templates", f'<template><name>{lab.prefix}apitpl</name>'
                        f'<vm id="{vm.id}"/></template>', status=201)
    for _ in range(300):
        if lab.engine.ctx.store.templates.get(template.get("id") or "").status.value == "ok":
            break
        time.sleep(0.1)

    export = api.call("POST", f"/vms/{vm.id}/export", f"<action><directory>{tmp_path}"
                      "</directory><filename>api.ova</filename><host id=\"x\"/></action>")
    api.wait_job(export)
    imported = api.call("POST", "/externalvmimports",
                        f"<external_vm_import><name>{lab.prefix}apiback</name>"
                        f"<url>ova://{tmp_path}/api.ova</url></external_vm_import>",
                        status=201)
    new_id = _id_of(imported, "vm")
    lab.engine.jobs.wait(_id_of(imported, "job"), 120)
    qemu_io(lab.volume_path(new_id), "read -P 0x43 1M 64k")

    fault = api.call("POST", f"/vms/{vm.id}/export", "<action><directory>relative</directory>"
                     "</action>", status=400)
    assert fault.tag == "action" and fault.find("fault") is not None


def test_iso_upload_and_cdrom(api: Api, tmp_path: Path) -> None:
    lab = api.lab
    data = small_iso(tmp_path).read_bytes()
    domain = lab.engine.ctx.store.storage_domains.all()[0].id
    disk = api.call("POST", f"/storagedomains/{domain}/isoimages?name=api.iso&sha256="
                    f"{hashlib.sha256(data).hexdigest()}", data,
                    content_type="application/octet-stream", status=201)
    assert disk.findtext("content_type") == "iso"
    stored = lab.engine.ctx.store.disks.get(disk.get("id") or "")
    assert stored.content_type is DiskContentType.ISO
    bad = api.call("POST", f"/storagedomains/{domain}/isoimages?name=bad.iso&sha256={'0' * 64}",
                   data, content_type="application/octet-stream", status=400)
    assert "SHA-256" in (bad.findtext("detail") or "")

    vm = lab.vm("cdvm", _template(api, tmp_path))
    cdrom = api.call("PUT", f"/vms/{vm.id}/cdroms/00000000-0000-0000-0000-000000000000"
                     "?boot_first=true", f'<cdrom><file id="{stored.id}"/></cdrom>')
    assert _id_of(cdrom, "file") == stored.id
    assert lab.engine.ctx.store.vms.get(vm.id).boot[0].value == "cdrom"
