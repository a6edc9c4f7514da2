"""Event codes are stable: each has one number for good, oVirt's own where the events match,
and oVirt's clients find events by it (as vdsm's storage exception codes are checked)."""

from __future__ import annotations

import collections

from appliance.engine.authz import SYSTEM
from appliance.engine.event_codes import PRIVATE, EventCode
from appliance.engine.model import MiB
from appliance.engine.vms import VmCreate
from tests.monitoring.conftest import Served


def test_every_number_is_given_once() -> None:
    counts = collections.Counter(code.number for code in EventCode)
    assert [number for number, count in counts.items() if count > 1] == []


def test_every_code_is_a_member_of_its_own() -> None:
    """Two members with one textual code would silently be one (an enum alias)."""
    assert [name for name, code in EventCode.__members__.items() if code.name != name] == []
    assert all(code.name == code.value.upper() for code in EventCode)


def test_numbers_are_positive_and_private_ones_stay_in_their_range() -> None:
    # oVirt's AuditLogType ends below 20 000; ours never meet it.
    assert all(0 < code.number < 20_000 or code.number > PRIVATE for code in EventCode)


def test_clients_find_events_by_number(served: Served) -> None:
    cluster = served.engine.clusters.default()
    served.engine.vms.create(VmCreate(name="numbered", cluster_id=cluster.id, memory=64 * MiB),
                             actor=SYSTEM)
    connection = served.connect()
    try:
        found = connection.system_service().events_service().list(search="type=34")
    finally:
        connection.close()
    assert [(e.code, e.comment) for e in found] == [(34, "vm_created")]  # oVirt's USER_ADD_VM
    assert "numbered" in found[0].description
