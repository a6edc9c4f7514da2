"""The many-hosts parts of the REST API, in-process on the lab's engine: add and remove a lab
host, fence status, migrate (and a refusal), cancel, the cluster's scheduling policy."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from appliance.engine.enums import HostStatus, JobStatus, VmStatus
from appliance.web import create_app
from tests.hosts.labenv import ADMIN_PASSWORD, Lab, MiB

pytestmark = pytest.mark.slow

API = "/ovirt-engine/api"


def _client(lab: Lab) -> tuple[FlaskClient, dict[str, str]]:
    token = base64.b64encode(f"admin@internal:{ADMIN_PASSWORD}".encode()).decode()
    headers = {"Authorization": f"Basic {token}", "Accept": "application/json",
               "Content-Type": "application/xml"}
    return create_app(lab.engine).test_client(), headers


def _wait_job(lab: Lab, reply: Any) -> None:
    job_id = reply.get_json()["job"]["id"]
    job = lab.engine.jobs.wait(job_id, 120)
    assert job.status is JobStatus.FINISHED, job.error


def test_hosts_migration_and_scheduling_policy_through_the_api(lab: Lab) -> None:
    client, headers = _client(lab)
    added = client.post(f"{API}/hosts", headers=headers,
                        data="<host><name>lab-c</name><type>lab</type>"
                             "<memory>268435456</memory></host>")
    assert added.status_code == 201, added.get_data(as_text=True)
    lab_c = added.get_json()
    assert lab_c["status"] == "up" and int(lab_c["memory"]) == 256 * MiB
    names = {h["name"] for h in client.get(f"{API}/hosts", headers=headers).get_json()["host"]}
    assert {"lab-a", "lab-b", "lab-c"} <= names
    status = client.post(f"{API}/hosts/{lab_c['id']}/fence", headers=headers,
                         data="<action><fence_type>status</fence_type></action>")
    assert status.get_json()["power_management"]["status"] == "on"
    restarted = client.post(f"{API}/hosts/{lab_c['id']}/fence", headers=headers,
                            data="<action><fence_type>restart</fence_type></action>")
    assert restarted.status_code == 200, restarted.get_data(as_text=True)
    assert lab.host(lab_c["id"]).status is HostStatus.UP  # fenced, then switched on
    assert any(e.code == "host_fenced" and e.host_id == lab_c["id"]
               for e in lab.engine.events.recent(limit=50))

    vm = lab.start_vm("api1", memory=384 * MiB)
    other = "lab-b" if lab.vm(vm.id).host_id == lab.a.id else "lab-a"
    moved = client.post(f"{API}/vms/{vm.id}/migrate", headers=headers,
                        data=f"<action><host><name>{other}</name></host></action>")
    assert moved.status_code == 200, moved.get_data(as_text=True)
    _wait_job(lab, moved)
    assert lab.host(lab.vm(vm.id).host_id or "").name == other
    refused = client.post(f"{API}/vms/{vm.id}/migrate", headers=headers,
                          data="<action><host><name>lab-c</name></host></action>")
    assert refused.status_code == 409
    assert "needs 384.0 MiB" in refused.get_data(as_text=True)
    cancel = client.post(f"{API}/vms/{vm.id}/cancelmigration", headers=headers,
                         data="<action/>")
    assert cancel.status_code == 409 and "not migrating" in cancel.get_data(as_text=True)

    cluster = lab.engine.clusters.default()
    updated = client.put(
        f"{API}/clusters/{cluster.id}", headers=headers,
        data="<cluster><scheduling_policy><name>vm_evenly_distributed</name>"
             "</scheduling_policy><custom_scheduling_policy_properties><property>"
             "<name>HighVmCount</name><value>3</value></property>"
             "</custom_scheduling_policy_properties></cluster>")
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert updated.get_json()["scheduling_policy"]["name"] == "vm_evenly_distributed"
    assert lab.engine.ctx.store.clusters.get(cluster.id).scheduling_properties == (
        ("HighVmCount", "3"),)
    bad = client.put(f"{API}/clusters/{cluster.id}", headers=headers,
                     data="<cluster><scheduling_policy><name>fastest</name>"
                          "</scheduling_policy></cluster>")
    assert bad.status_code == 400 and "power_saving" in bad.get_data(as_text=True)
    policies = client.get(f"{API}/schedulingpolicies", headers=headers).get_json()
    assert len(policies["scheduling_policy"]) == 4

    deactivated = client.post(f"{API}/hosts/{lab_c['id']}/deactivate", headers=headers,
                              data="<action/>")
    _wait_job(lab, deactivated)
    removed = client.delete(f"{API}/hosts/{lab_c['id']}", headers=headers)
    assert removed.status_code == 200, removed.get_data(as_text=True)
    assert lab.engine.hosts.lab.find("lab-c") is None
    assert lab.vm(vm.id).status is VmStatus.UP


def test_affinity_groups_through_the_api(lab: Lab) -> None:
    client, headers = _client(lab)
    cluster = lab.engine.clusters.default()
    first, second = lab.start_vm("aff1"), lab.start_vm("aff2")
    base = f"{API}/clusters/{cluster.id}/affinitygroups"
    added = client.post(base, headers=headers, data=(
        "<affinity_group><name>pair</name><positive>false</positive><enforcing>true"
        f"</enforcing><vms><vm id='{first.id}'/><vm><name>aff2</name></vm></vms>"
        "</affinity_group>"))
    assert added.status_code == 201, added.get_data(as_text=True)
    listed = client.get(base, headers=headers).get_json()["affinity_group"]
    assert [g["name"] for g in listed] == ["pair"]
    assert {v["id"] for v in listed[0]["vms"]["vm"]} == {first.id, second.id}
    assert listed[0]["vms_rule"] == {"enabled": "true", "enforcing": "true",
                                     "positive": "false"}
    group_id = listed[0]["id"]
    # The VMs run on different hosts: moving one to its partner's breaks the group.
    target = lab.vm(second.id).host_id
    assert target != lab.vm(first.id).host_id
    refused = client.post(f"{API}/vms/{first.id}/migrate", headers=headers,
                          data=f"<action><host id='{target}'/></action>")
    assert refused.status_code == 409 and "affinity group pair" in refused.get_data(as_text=True)
    assert client.delete(f"{base}/{group_id}", headers=headers).status_code == 200
    assert lab.engine.affinity_groups.list(cluster.id) == []
