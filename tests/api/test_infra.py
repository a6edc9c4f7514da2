"""The lab's fabric through the SDK: data centers, clusters, hosts (maintenance and back),
storage domains (deactivate and activate in their data center), networks, profiles,
operating systems, templates, events and jobs found by correlation id."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from tests.api.conftest import unique


def test_fabric_lists(admin: sdk.Connection) -> None:
    system = admin.system_service()
    [dc] = system.data_centers_service().list()
    [cluster] = system.clusters_service().list()
    assert (dc.name, cluster.name, cluster.data_center.id) == ("Default", "Default", dc.id)
    [network] = system.networks_service().list(search="name=ovirtmgmt")
    assert network.data_center.id == dc.id
    profiles = system.vnic_profiles_service().list()
    assert any(p.network.id == network.id for p in profiles)
    [domain] = system.storage_domains_service().list(search="name=ram")
    assert domain.available > 0 and domain.type == types.StorageDomainType.DATA
    assert "other_linux" in {o.name for o in system.operating_systems_service().list()}
    assert "Blank" in {t.name for t in system.templates_service().list()}


def test_host_maintenance_and_back(admin: sdk.Connection) -> None:
    hosts = admin.system_service().hosts_service()
    [host] = hosts.list()
    assert host.status == types.HostStatus.UP
    service = hosts.host_service(host.id)
    service.deactivate()
    _wait(lambda: service.get().status == types.HostStatus.MAINTENANCE)
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("nohost"), template=types.Template(name="Blank"),
                          cluster=types.Cluster(name="Default"), memory=64 * 1024 * 1024))
    try:
        try:
            vms.vm_service(vm.id).start()
            raise AssertionError("a VM started with its only host in maintenance")
        except sdk.Error as refused:
            assert refused.code == 409
    finally:
        service.activate()
        vms.vm_service(vm.id).remove()
    assert service.get().status == types.HostStatus.UP


def test_storage_domain_deactivate_and_activate(admin: sdk.Connection) -> None:
    system = admin.system_service()
    [dc] = system.data_centers_service().list()
    attached = system.data_centers_service().data_center_service(dc.id) \
        .storage_domains_service()
    [domain] = attached.list()
    assert domain.status == types.StorageDomainStatus.ACTIVE
    service = attached.storage_domain_service(domain.id)
    service.deactivate()
    assert service.get().status == types.StorageDomainStatus.MAINTENANCE
    service.activate()
    assert service.get().status == types.StorageDomainStatus.ACTIVE


def test_jobs_and_events_by_correlation_id(admin: sdk.Connection) -> None:
    system = admin.system_service()
    vm = system.vms_service().add(types.Vm(
        name=unique("corr"), template=types.Template(name="Blank"),
        cluster=types.Cluster(name="Default"), memory=64 * 1024 * 1024))
    service = system.vms_service().vm_service(vm.id)
    correlation = f"test-{secrets.token_hex(4)}"
    try:
        service.start(query={"correlation_id": correlation})
        jobs = system.jobs_service().list(search=f"correlation_id={correlation}")
        assert len(jobs) == 1 and jobs[0].status == types.JobStatus.FINISHED
        assert system.jobs_service().job_service(jobs[0].id).get().id == jobs[0].id
        events = system.events_service().list(search=f"correlation_id={correlation}")
        assert any(vm.name in e.description for e in events)
        assert all(isinstance(e.code, int) for e in events)
        service.stop()
    finally:
        service.remove()


def _wait(condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_cluster_memory_overcommit_as_ovirt_sets_it(admin: sdk.Connection) -> None:
    clusters = admin.system_service().clusters_service()
    [cluster] = clusters.list()
    assert cluster.memory_policy.over_commit.percent == 100
    service = clusters.cluster_service(cluster.id)
    try:
        updated = service.update(types.Cluster(memory_policy=types.MemoryPolicy(
            over_commit=types.MemoryOverCommit(percent=150))))
        assert updated.memory_policy.over_commit.percent == 150
        assert service.get().memory_policy.over_commit.percent == 150
        assert service.get().scheduling_policy.name == cluster.scheduling_policy.name
        try:
            service.update(types.Cluster(memory_policy=types.MemoryPolicy(
                over_commit=types.MemoryOverCommit(percent=50))))
            raise AssertionError("a memory overcommit of 50% was taken")
        except sdk.Error as refused:
            assert refused.code == 400 and "150 for server load" in str(refused)
    finally:
        service.update(types.Cluster(memory_policy=types.MemoryPolicy(
            over_commit=types.MemoryOverCommit(percent=100))))
