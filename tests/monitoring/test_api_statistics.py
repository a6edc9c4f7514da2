"""oVirt's statistics sub-collections, read with the oVirt SDK over HTTP."""

from __future__ import annotations

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.model import MiB
from appliance.engine.vms import VmCreate
from tests.monitoring.conftest import Served
from tests.monitoring.test_audit import ADMIN


def _by_name(stats: list[types.Statistic]) -> dict[str, types.Statistic]:
    return {s.name: s for s in stats}


def test_host_statistics_are_oVirt_statistics(served: Served) -> None:
    served.engine.monitor.wait_rounds(2)
    connection = served.connect()
    try:
        [host] = connection.system_service().hosts_service().list()
        service = connection.system_service().hosts_service().host_service(host.id)
        stats = _by_name(service.statistics_service().list())
        total = stats["memory.total"]
        assert total.kind == types.StatisticKind.GAUGE and total.type == types.ValueType.INTEGER
        assert total.unit == types.StatisticUnit.BYTES
        assert total.values[0].datum > stats["memory.used"].values[0].datum > 0
        idle = stats["cpu.current.idle"]
        assert idle.type == types.ValueType.DECIMAL and 0 <= idle.values[0].datum <= 100
        assert "memory.shared" in stats and "memory.ksm.saved" in stats
        one = service.statistics_service().statistic_service(total.id).get()
        assert one.name == "memory.total" and one.host.id == host.id
    finally:
        connection.close()


def test_a_down_vm_has_its_configured_values_only(served: Served) -> None:
    engine = served.engine
    cluster = engine.clusters.default()
    vm = engine.vms.create(VmCreate(name="idle", cluster_id=cluster.id, memory=96 * MiB),
                           actor=ADMIN)
    connection = served.connect()
    try:
        service = connection.system_service().vms_service().vm_service(vm.id)
        stats = _by_name(service.statistics_service().list())
        assert set(stats) == {"memory.installed", "cpu.count"}
        assert stats["memory.installed"].values[0].datum == 96 * MiB
        with pytest.raises(sdk.NotFoundError):
            service.statistics_service().statistic_service("nonsense").get()
    finally:
        connection.close()


def test_events_search_by_severity_host_and_words(served: Served) -> None:
    engine = served.engine
    [host] = engine.ctx.store.hosts.all()
    engine.events.record(EventCode.HOST_UNREACHABLE, "Host is hot.",
                         severity=EventSeverity.WARNING, host_id=host.id)
    engine.events.record(EventCode.VM_PAUSED_IO_ERROR, "A VM is cold.",
                         severity=EventSeverity.WARNING)
    connection = served.connect()
    try:
        events = connection.system_service().events_service()
        found = events.list(search=f"severity=warning and host.id={host.id}")
        assert [e.description for e in found] == ["Host is hot."]
        assert {e.description for e in events.list(search="description=*cold*")} == {
            "A VM is cold."}
    finally:
        connection.close()
