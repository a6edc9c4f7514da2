"""The audit log records user actions on the real engine: done, denied and failed."""

from __future__ import annotations

import pytest

from appliance.engine.audit import AuditResult
from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.model import BLANK_TEMPLATE_ID, MiB
from appliance.engine.vms import VmCreate
from appliance.errors import InvalidState, NotAuthenticated, PermissionDenied

ADMIN = Actor(user_id="admin", name="admin@internal", superuser=True, address="127.0.0.1")
BOB = Actor(user_id="bob", name="bob@internal", address="192.0.2.7")


def test_a_denied_action_is_recorded_with_who_and_where(engine: Engine) -> None:
    with pytest.raises(PermissionDenied):
        engine.templates.remove(BLANK_TEMPLATE_ID, actor=BOB)
    [entry] = engine.audit.search(user="bob@internal")
    assert (entry.action, entry.target, entry.result) == ("template.remove", BLANK_TEMPLATE_ID,
                                                          AuditResult.DENIED)
    assert entry.address == "192.0.2.7" and "SuperUser" in entry.detail
    assert entry.user_id == "bob" and entry.time > 0


def test_done_and_failed_actions_are_recorded_once(engine: Engine) -> None:
    cluster = engine.clusters.default()
    vm = engine.vms.create(VmCreate(name="audited", cluster_id=cluster.id, memory=64 * MiB),
                           actor=ADMIN)
    with pytest.raises(InvalidState):
        engine.vms.stop(vm.id, actor=ADMIN)  # it is down
    engine.vms.remove(vm.id, actor=ADMIN)  # removes its disks too: one entry, not several
    entries = engine.audit.search(user="admin@internal")
    assert [(e.action, e.result) for e in reversed(entries)] == [
        ("vm.create", AuditResult.SUCCESS), ("vm.stop", AuditResult.FAILED),
        ("vm.remove", AuditResult.SUCCESS)]
    assert entries[2].target == f"audited ({vm.id})"
    assert "down" in entries[1].detail
    assert engine.audit.search(result=AuditResult.FAILED)[0].action == "vm.stop"


def test_reads_and_the_system_leave_no_trace(engine: Engine) -> None:
    engine.vms.list(actor=ADMIN)
    engine.vms.list(actor=BOB)
    assert engine.audit.search() == []


def test_a_refused_login_is_recorded_with_its_address(engine: Engine) -> None:
    with pytest.raises(NotAuthenticated):
        engine.users.authenticate("mallory@internal", "guess", address="203.0.113.5")
    [entry] = engine.audit.search(action="user.login")
    assert (entry.user, entry.address, entry.result) == ("mallory@internal", "203.0.113.5",
                                                         AuditResult.DENIED)
