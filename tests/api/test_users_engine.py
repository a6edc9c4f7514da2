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
from appliance.engine.login_throttle import LoginThrottle, source_of
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


def test_wrong_passwords_throttle_the_name_from_that_address(users: Users) -> None:
    users.create_user("jdoe@internal", "jdoe-password", actor=SYSTEM)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            users.authenticate("jdoe@internal", "nope", address="10.0.0.2")
    with pytest.raises(TooManyAttempts):
        users.authenticate("jdoe@internal", "jdoe-password", address="10.0.0.2")
    # The guesser's failures lock neither the real user elsewhere nor other names there.
    assert users.authenticate("jdoe@internal", "jdoe-password", address="10.0.0.3")
    assert users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.2").superuser


def test_a_guesser_keeps_only_itself_out(users: Users) -> None:
    """One failure per lock period renews the guesser's lock, never the admin's."""
    now = time.time()
    throttles = users.throttles
    for step in range(12):
        throttles.failed("admin", "203.0.113.9", now=now + step * 901)
        assert users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.4")
    with pytest.raises(TooManyAttempts):
        throttles.check("admin", "203.0.113.9", now=now + 11 * 901 + 1)


def test_many_names_from_one_address_throttle_that_address(users: Users) -> None:
    for number in range(30):
        with pytest.raises(NotAuthenticated):
            users.authenticate(f"nobody{number}@internal", "nope", address="10.0.0.5")
    with pytest.raises(TooManyAttempts):
        users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.5")
    assert users.authenticate("admin@internal", ADMIN_PASSWORD, address="10.0.0.6")


def test_ipv6_addresses_count_by_their_64() -> None:
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff::9") == \
        "2001:db8:1:2::/64"
    assert source_of("::ffff:192.0.2.7") == "192.0.2.7"
    assert source_of("192.0.2.7") == "192.0.2.7"


def test_the_throttle_forgets_the_oldest_past_its_size() -> None:
    throttle = LoginThrottle(max_failures=1, max_keys=100)
    for number in range(1000):
        throttle.failed(f"10.1.{number // 250}.{number % 250}", now=1000.0 + number)
    with pytest.raises(TooManyAttempts):
        throttle.check("10.1.3.249", now=2000.0)
    throttle.check("10.1.0.0", now=2000.0)  # forgotten: room for the newer ones


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
