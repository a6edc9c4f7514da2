"""The Admin Portal's many-hosts forms, through Flask's test client on the lab's engine."""

from __future__ import annotations

import pytest

from appliance.engine.enums import HostStatus, JobStatus
from appliance.web import create_app
from tests.hosts.labenv import ADMIN_PASSWORD, Lab, MiB, wait_until

pytestmark = pytest.mark.slow


def test_lab_hosts_policy_and_migration_from_the_admin_portal(lab: Lab) -> None:
    client = create_app(lab.engine).test_client()
    with client.session_transaction() as session:
        session["csrf_token"] = "portal-test"
    form = {"csrf_token": "portal-test"}
    logged_in = client.post("/login", data={**form, "username": "admin@internal",
                                            "password": ADMIN_PASSWORD})
    assert logged_in.status_code == 302
    with client.session_transaction() as session:
        session["csrf_token"] = "portal-test"  # a new session after login
    page = client.get("/admin/hosts").get_data(as_text=True)
    assert "Start lab host" in page and "Scheduling policy of cluster Default" in page

    client.post("/admin/labhosts", data={**form, "name": "lab-p", "memory_mib": "512"})
    lab_p = lab.engine.ctx.store.hosts.get_by_name("lab-p")
    assert lab_p.status is HostStatus.UP and lab_p.memory == 512 * MiB
    assert "lab-p" in client.get("/admin/hosts").get_data(as_text=True)

    cluster = lab.engine.clusters.default()
    client.post(f"/admin/clusters/{cluster.id}/policy",
                data={**form, "policy": "vm_evenly_distributed", "properties": "HighVmCount=4"})
    assert lab.engine.ctx.store.clusters.get(cluster.id).scheduling_properties == (
        ("HighVmCount", "4"),)

    vm = lab.start_vm("portal1")
    source = lab.vm(vm.id).host_id
    client.post(f"/admin/vms/{vm.id}/migrate", data=form)
    wait_until(lambda: not lab.engine.ctx.store.jobs.where(status=JobStatus.STARTED), 120,
               "the migration")
    assert lab.vm(vm.id).host_id not in (None, source)

    client.post(f"/admin/hosts/{lab_p.id}/power/stop", data=form)
    assert lab.host(lab_p.id).status is HostStatus.DOWN
    assert not lab.engine.hosts.lab.running(lab.engine.hosts.lab_info(lab.host(lab_p.id)))
