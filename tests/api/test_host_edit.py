"""``PUT /hosts/{id}`` through the SDK, with oVirt's refusals: what ovirt_host reads (power
management, SPM priority, the kernel command line) is shown and kept; another cluster only in
maintenance; power management only with an agent; an address elsewhere is not this host."""

from __future__ import annotations

import time
from collections.abc import Callable

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import Appliance, unique


def _local(admin: sdk.Connection) -> tuple[types.Host, sdk.services.HostService]:
    hosts = admin.system_service().hosts_service()
    [host] = hosts.list()
    return host, hosts.host_service(host.id)


def test_what_ovirt_host_reads_is_there(admin: sdk.Connection) -> None:
    host, _ = _local(admin)
    assert host.power_management.enabled is False  # the local host has no power agent
    assert host.power_management.kdump_detection is True
    assert host.spm.priority == 5 and host.spm.status == types.SpmStatus.SPM
    assert host.os.custom_kernel_cmdline == ""


def test_comment_priority_and_kernel_cmdline_are_kept(admin: sdk.Connection) -> None:
    host, service = _local(admin)
    try:
        updated = service.update(types.Host(
            comment="by the window", spm=types.Spm(priority=8),
            os=types.OperatingSystem(custom_kernel_cmdline="intel_iommu=on"),
            power_management=types.PowerManagement(kdump_detection=False)))
        assert (updated.comment, updated.spm.priority) == ("by the window", 8)
        again = service.get()
        assert again.os.custom_kernel_cmdline == "intel_iommu=on"
        assert again.power_management.kdump_detection is False
        assert again.name == host.name and again.status == types.HostStatus.UP
    finally:
        service.update(types.Host(comment="", spm=types.Spm(priority=5),
                                  os=types.OperatingSystem(custom_kernel_cmdline=""),
                                  power_management=types.PowerManagement(
                                      kdump_detection=True)))


@pytest.mark.parametrize(("change", "code", "words"), [
    (types.Host(spm=types.Spm(priority=11)), 400, "between -1 and 10"),
    (types.Host(power_management=types.PowerManagement(enabled=True)), 409,
     "no Agent type selected"),
    (types.Host(address="192.0.2.7"), 501, "adding the other machine"),
])
def test_refused_edits(admin: sdk.Connection, change: types.Host, code: int,
                       words: str) -> None:
    _, service = _local(admin)
    with pytest.raises(sdk.Error) as refused:
        service.update(change)
    assert refused.value.code == code and words in str(refused.value)


def test_renamed_and_back(admin: sdk.Connection) -> None:
    host, service = _local(admin)
    new_name = unique("renamed")
    try:
        assert service.update(types.Host(name=new_name)).name == new_name
        assert [h.id for h in admin.system_service().hosts_service().list(
            search=f"name={new_name}")] == [host.id]
    finally:
        service.update(types.Host(name=host.name))


def test_another_cluster_only_in_maintenance(admin: sdk.Connection,
                                             appliance: Appliance) -> None:
    system = admin.system_service()
    clusters = system.clusters_service()
    other = clusters.add(types.Cluster(name=unique("elsewhere"),
                                       data_center=types.DataCenter(name="Default")))
    host, service = _local(admin)
    try:
        with pytest.raises(sdk.Error) as refused:
            service.update(types.Host(cluster=types.Cluster(name=other.name)))
        assert refused.value.code == 409 and "only in maintenance" in str(refused.value)
        service.deactivate()
        _wait(lambda: service.get().status == types.HostStatus.MAINTENANCE)
        moved = service.update(types.Host(cluster=types.Cluster(name=other.name)))
        assert moved.cluster.id == other.id
        # a cluster with a host cannot go
        with pytest.raises(sdk.Error) as busy:
            clusters.cluster_service(other.id).remove()
        assert busy.value.code == 409
        service.update(types.Host(cluster=types.Cluster(id=host.cluster.id)))
    finally:
        if service.get().status != types.HostStatus.UP:
            service.activate()
        clusters.cluster_service(other.id).remove()
    assert service.get().cluster.id == host.cluster.id


def _wait(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)
