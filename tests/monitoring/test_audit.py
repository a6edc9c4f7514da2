"""The audit log records user actions on the real engine: done, denied and failed."""

from __future__ import annotations

import inspect
import logging

import pytest

from appliance.config import Config
from appliance.engine.audit import AuditKind, AuditResult, declaration
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.model import BLANK_TEMPLATE_ID, MiB
from appliance.engine.vms import VmCreate, Vms
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


FORGED = "\r\n2030-01-01 00:00:00,000 INFO virtstick.audit: admin@internal from 127.0.0.1: "


def test_names_from_requests_cannot_forge_log_lines(engine: Engine,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """A user name or an id with a CR or LF (a login form, a path) would start a line of its
    own in the log, posing as another user's action: each record stays one line."""
    with caplog.at_level(logging.INFO), pytest.raises(NotAuthenticated):
        engine.users.authenticate("x" + FORGED + "vm.remove y: success", "wrong",
                                  address="192.0.2.9")
    with caplog.at_level(logging.INFO), pytest.raises(PermissionDenied):
        engine.templates.remove("t" + FORGED + "template.remove t: success", actor=BOB)
    lines = [line for r in caplog.records for line in r.getMessage().splitlines()]
    assert lines and not [line for line in lines if line.startswith("2030-")], lines
    assert any("\\x0d\\x0a2030-" in line for line in lines), lines
    [denied] = engine.audit.search(user="bob@internal")
    assert denied.target.startswith("t\r\n2030-")  # the record keeps what was sent


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


def test_a_service_made_outside_the_engine_is_audited_too(engine: Engine) -> None:
    cluster = engine.clusters.default()
    vms = Vms(engine.ctx, engine.disks, engine.placement)
    vm = vms.create(VmCreate(name="outside", cluster_id=cluster.id, memory=64 * MiB),
                    actor=ADMIN)
    [entry] = engine.audit.search(action="vm.create")
    assert (entry.target, entry.result) == (f"outside ({vm.id})", AuditResult.SUCCESS)


def test_every_service_method_that_acts_for_a_user_declares_its_audit(engine: Engine) -> None:
    """A public method taking ``actor=`` must say whether it is an action (``@audited``) or a
    read (``@audited_read``): a new one without a declaration fails here, by name. The
    services are the engine's and those they hold (the import pipeline)."""
    services = _services(engine)
    undeclared: list[str] = []
    methods_of: dict[AuditAction, list[str]] = {}
    for cls in sorted(services, key=lambda c: c.__name__):
        for name, function in inspect.getmembers(cls, inspect.isfunction):
            parameter = inspect.signature(function).parameters.get("actor")
            if name.startswith("_") or parameter is None or \
                    parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
                continue
            declared = declaration(function)
            if declared is None:
                undeclared.append(f"{cls.__name__}.{name}")
            else:
                methods_of.setdefault(declared.action, []).append(f"{cls.__name__}.{name}")
    assert undeclared == [], "declare @audited(AuditAction...) or @audited_read(...)"
    assert {a: m for a, m in methods_of.items() if len(m) > 1} == {}, "one name each"
    login = declaration(type(engine.users).authenticate)
    assert login is not None and login.kind is AuditKind.LOGIN
    recorded_elsewhere = {AuditAction.USER_LOGIN, AuditAction.METRICS_READ}
    assert set(AuditAction) - set(methods_of) - recorded_elsewhere == set(), "unused names"


def _services(engine: Engine) -> set[type]:
    def ours(value: object) -> bool:
        return value is not engine.audit and \
            type(value).__module__.startswith("appliance.engine.")

    found = {type(s) for s in vars(engine).values() if ours(s)}
    for service in [s for s in vars(engine).values() if ours(s)]:
        found |= {type(v) for v in getattr(service, "__dict__", {}).values() if ours(v)}
    return found


def test_an_action_cut_short_by_a_restart_is_failed_not_started(config: Config) -> None:
    first = Engine(config)
    first.start()
    first.audit.record(actor=ADMIN, action=AuditAction.IMPORTER_IMPORT_OVA, target="big.ova",
                       result=AuditResult.STARTED)  # its job was running when the power went
    first.stop()
    again = Engine(config)
    again.start()
    try:
        [entry] = again.audit.search(action="importer.import_ova")
        assert (entry.result, entry.target) == (AuditResult.FAILED, "big.ova")
        assert "restarted" in entry.detail and entry.user_id == ADMIN.user_id
    finally:
        again.stop()
