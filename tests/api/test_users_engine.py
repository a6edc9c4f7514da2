"""The engine's users service on its own (what the portals call in-process): logins,
tokens, throttling and permissions, on a real SQLite store in a temporary directory."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.engine.audit import AuditLog
from appliance.engine.authz import SYSTEM
from appliance.engine.clock import ManualClock
from appliance.engine.context import EngineContext, Hosts, Locks
from appliance.engine.events import EventLog
from appliance.engine.jobs import Jobs
from appliance.engine.model import Vm
from appliance.engine.store import Database
from appliance.engine.store.schema import Store
from appliance.engine.users import ObjectType, RoleName, Users
from appliance.errors import NotAuthenticated, PermissionDenied, TooManyAttempts
from appliance.security.passwords import hash_password

ADMIN_PASSWORD = "admin-password"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def users(tmp_path: Path, clock: ManualClock) -> Iterator[Users]:
    config = Config().replace(appliance={"state_dir": tmp_path},
                              auth={"admin_password_hash": hash_password(ADMIN_PASSWORD)})
    db = Database(config.database_path)
    events = EventLog(db)
    jobs = Jobs(Store(db).jobs, events)
    ctx = EngineContext(config=config, store=Store(db), events=events, jobs=jobs,
                        hosts=Hosts(), locks=Locks(), appliance_id="test", audit=AuditLog(db, jobs),
                        clock=clock)
    yield Users(ctx)
    jobs.shutdown()
    db.close()


def test_admin_logs_in_and_tokens_work(users: Users) -> None:
    actor = users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.1")
    assert actor.superuser and actor.name == "admin@internal"
    token = users.issue_token(actor)
    assert users.actor_for_token(token).user_id == actor.user_id
    users.revoke(token)
    with pytest.raises(NotAuthenticated):
        users.actor_for_token(token)


def test_idle_tokens_expire(users: Users, clock: ManualClock) -> None:
    token = users.issue_token(users.authenticate("admin", ADMIN_PASSWORD))
    clock.advance(users.idle_seconds + 0.3)
    with pytest.raises(NotAuthenticated, match="expired"):
        users.actor_for_token(token)


def test_use_keeps_a_token_alive(users: Users, clock: ManualClock) -> None:
    admin = users.authenticate("admin", ADMIN_PASSWORD)
    kept, dropped = users.issue_token(admin), users.issue_token(admin)
    for _ in range(4):
        clock.advance(users.idle_seconds * 0.75)
        assert users.actor_for_token(kept).superuser
    assert users.token_expiry(kept) == clock.now() + users.idle_seconds
    with pytest.raises(NotAuthenticated, match="expired"):
        users.actor_for_token(dropped)


def test_wrong_passwords_throttle_the_name(users: Users) -> None:
    users.create_user("jdoe@internal", "jdoe-password", actor=SYSTEM)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            users.authenticate("jdoe@internal", "nope", address="10.0.0.2")
    with pytest.raises(TooManyAttempts):
        users.authenticate("jdoe@internal", "jdoe-password", address="10.0.0.3")
    assert users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.2").superuser


def test_permissions_make_the_actor(users: Users) -> None:
    jdoe = users.create_user("jdoe", "jdoe-password", actor=SYSTEM)
    actor = users.authenticate("jdoe", "jdoe-password")
    assert not actor.superuser and actor.granted == frozenset()
    with pytest.raises(PermissionDenied):
        users.create_user("eve", "eve-password", actor=actor)
    users.ctx.store.vms.insert(Vm(id="vm1", name="vm1", cluster_id="c", memory=1 << 26))
    role = users.role_named(RoleName.USER_ROLE.value)
    users.grant(user_id=jdoe.id, role_id=role.id, object_type=ObjectType.VM, object_id="vm1",
                actor=SYSTEM)
    assert users.actor(jdoe.id).granted == frozenset({"vm1"})
    stored = users.table.get(jdoe.id).password_hash
    assert stored.startswith("scrypt$") and "jdoe-password" not in stored
