"""Users, roles, permissions and login sessions: who may act, checked in the engine.

``admin@internal`` takes its password from the configuration (firstboot sets it); other users
are made through the API and keep a scrypt hash here. A permission gives a user a role on an
object: SuperUser on the system makes an administrator, UserRole on a VM lets a user see and
run that VM. Tokens live in memory: a restart logs everyone out, as oVirt's SSO does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, replace
from enum import StrEnum

from appliance.engine import validation
from appliance.engine.audit import audited, audited_login, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.login_throttle import LoginThrottles
from appliance.engine.store.tables import Table
from appliance.errors import (
    InvalidInput,
    InvalidState,
    NameInUse,
    NotAuthenticated,
    NotFound,
)
from appliance.security.passwords import hash_password, verify_password

ADMIN_USER_ID = "fdfc627c-d875-11e0-90f0-83df133b58cc"  # oVirt's id for admin@internal
SYSTEM_OBJECT_ID = "aaa00000-0000-0000-0000-123456789aaa"  # oVirt's id for "the system"
INTERNAL_DOMAIN = "internal"
MIN_PASSWORD_LENGTH = 8


class ObjectType(StrEnum):
    SYSTEM = "system"
    VM = "vm"


class RoleName(StrEnum):
    SUPER_USER = "SuperUser"
    USER_ROLE = "UserRole"


@dataclass(frozen=True)
class Role:
    id: str
    name: RoleName
    description: str
    administrative: bool
    permits: tuple[str, ...]


ROLES = (
    Role(id="00000000-0000-0000-0000-000000000001", name=RoleName.SUPER_USER,
         description="Everything, on every object", administrative=True,
         permits=("everything",)),
    Role(id="00000000-0000-0000-0001-000000000001", name=RoleName.USER_ROLE,
         description="Their own VMs: see, start, stop, console, snapshots", administrative=False,
         permits=("run_vm", "shut_down_vm", "stop_vm", "connect_to_vm", "manipulate_vm_snapshots",
                  "create_vm")),
)


@dataclass(frozen=True)
class User:
    id: str
    name: str  # without the domain: "jdoe"
    domain: str = INTERNAL_DOMAIN
    password_hash: str = ""  # empty for admin: its hash lives in the configuration
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    created: float = 0.0

    @property
    def user_name(self) -> str:
        return f"{self.name}@{self.domain}"


@dataclass(frozen=True)
class Permission:
    id: str
    user_id: str
    role_id: str
    object_type: ObjectType
    object_id: str


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    address: str
    issued: float
    last_used: float


class Users:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        db = ctx.store.db
        self.table: Table[User] = Table(db, name="users", cls=User, noun="user",
                                        columns=("name",))
        self.permissions_table: Table[Permission] = Table(
            db, name="permissions", cls=Permission, noun="permission",
            columns=("user_id", "role_id", "object_id"))
        # By (user, address) and by address, never by user alone (see login_throttle).
        self.throttles = LoginThrottles()
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()
        # Verified passwords for a minute, so HTTP Basic clients do not pay scrypt per request.
        self._cache_key = secrets.token_bytes(32)
        self._verified: dict[bytes, tuple[str, float]] = {}
        self._dummy_hash = hash_password(secrets.token_urlsafe(16))
        self._ensure_admin()

    # Logging in

    @audited_login
    def authenticate(self, username: str, password: str, *, address: str = "") -> Actor:
        """The actor for a user name (``jdoe`` or ``jdoe@internal``) and password.

        Raises NotAuthenticated for a wrong name or password (the same message for both) and
        TooManyAttempts while this name from this address, or this address, is throttled."""
        now = time.time()
        name, _domain = _split_user_name(username)
        self.throttles.check(name, address, now=now)
        user = self.table.by_name(name)
        if user is None:
            # As slow as a wrong password, so timing does not tell which names exist.
            verify_password(password, self._dummy_hash)
        if user is None or not self._password_ok(user, password):
            self.throttles.failed(name, address, now=now)
            self.ctx.events.record(EventCode.USER_LOGIN_FAILED,
                                   f"Failed login as '{name[:64]}' from {address or 'unknown'}.",
                                   severity=EventSeverity.WARNING, user=name[:64])
            raise NotAuthenticated("The user name or password is incorrect.")
        self.throttles.succeeded(name, address)
        return self.actor(user.id, address=address)

    def issue_token(self, actor: Actor) -> str:
        self.get_user(actor.user_id)
        token = secrets.token_urlsafe(32)
        now = self.ctx.clock.now()
        with self._lock:
            # Sessions nobody used again would stay forever: drop the dead ones at each login.
            for dead in [t for t, s in self._sessions.items()
                         if now - s.last_used > self.idle_seconds]:
                del self._sessions[dead]
            self._sessions[token] = Session(token=token, user_id=actor.user_id,
                                            address=actor.address, issued=now, last_used=now)
        return token

    def actor_for_token(self, token: str, *, address: str = "") -> Actor:
        """The actor a token stands for; each use restarts its idle time."""
        now = self.ctx.clock.now()
        with self._lock:
            session = self._sessions.get(token)
            if session is not None and now - session.last_used > self.idle_seconds:
                del self._sessions[token]
                session = None
            if session is None:
                raise NotAuthenticated("The session token is missing, expired or revoked; "
                                       "log in again.")
            self._sessions[token] = replace(session, last_used=now)
        try:
            return self.actor(session.user_id, address=address or session.address)
        except NotFound:
            self.revoke(token)
            raise NotAuthenticated("The user of this session no longer exists.") from None

    def token_expiry(self, token: str) -> float:
        """When the token dies if it is not used again (epoch seconds)."""
        with self._lock:
            session = self._sessions.get(token)
        if session is None:
            raise NotAuthenticated("Unknown session token.")
        return session.last_used + self.idle_seconds

    def revoke(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    @property
    def idle_seconds(self) -> float:
        return float(self.ctx.config.auth.token_idle_minutes) * 60.0

    def actor(self, user_id: str, *, address: str = "") -> Actor:
        user = self.get_user(user_id)
        permissions = self.permissions_table.where(user_id=user_id)
        superuser = any(p.role_id == _role_id(RoleName.SUPER_USER)
                        and p.object_type is ObjectType.SYSTEM for p in permissions)
        granted = frozenset(p.object_id for p in permissions if p.object_type is ObjectType.VM)
        return Actor(user_id=user.id, name=user.user_name, superuser=superuser, address=address,
                     granted=granted)

    # Users

    @audited_read(AuditAction.USER_LIST_USERS)
    def list_users(self, *, actor: Actor) -> list[User]:
        if actor.superuser:
            return self.table.all()
        return [self.get_user(actor.user_id)]

    @audited_read(AuditAction.USER_GET_USER)
    def get_user(self, user_id: str, *, actor: Actor | None = None) -> User:
        if actor is not None and not actor.superuser and actor.user_id != user_id:
            raise NotFound(f"There is no user with id '{user_id}'.")
        return self.table.get(user_id)

    def find_user(self, user_id: str) -> User | None:
        return self.table.find(user_id)

    def find_user_by_name(self, name: str) -> User | None:
        """By name, with or without the domain: ``jdoe`` or ``jdoe@internal``."""
        return self.table.by_name(name.partition("@")[0])

    @audited(AuditAction.USER_CREATE_USER)
    def create_user(self, name: str, password: str, *, actor: Actor, email: str = "",
                    first_name: str = "", last_name: str = "",
                    role: RoleName | None = RoleName.USER_ROLE) -> User:
        """A user of the internal domain; with ``role`` UserRole they may make their own VMs."""
        require_superuser(actor, "add users")
        name, _domain = _split_user_name(name)
        validation.name(name, noun="user")
        _check_password(password)
        user = User(id=new_id(), name=name, password_hash=hash_password(password), email=email,
                    first_name=first_name, last_name=last_name, created=time.time())
        with self.ctx.store.db.transaction():
            if self.table.by_name(name) is not None:
                raise NameInUse(f"The user name '{name}' is already in use.")
            self.table.insert(user)
            if role is not None:
                self._insert_permission(user.id, _role_id(role), ObjectType.SYSTEM,
                                        SYSTEM_OBJECT_ID)
        self.ctx.events.record(
            EventCode.USER_ADDED, f"User {user.user_name} was added by {actor.name}.",
            user=actor.name)
        return user

    @audited(AuditAction.USER_SET_PASSWORD)
    def set_password(self, user_id: str, password: str, *, actor: Actor) -> None:
        if actor.user_id != user_id:
            require_superuser(actor, "change other users' passwords")
        user = self.get_user(user_id)
        if user.id == ADMIN_USER_ID:
            raise InvalidState("admin@internal's password is set in the configuration "
                               "(virtstick-firstboot).")
        _check_password(password)
        self.table.update(replace(user, password_hash=hash_password(password)))
        self._forget_verified()

    @audited(AuditAction.USER_REMOVE_USER)
    def remove_user(self, user_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove users")
        user = self.get_user(user_id)
        if user.id == ADMIN_USER_ID:
            raise InvalidState("admin@internal cannot be removed.")
        with self.ctx.store.db.transaction():
            for permission in self.permissions_table.where(user_id=user_id):
                self.permissions_table.delete(permission.id)
            self.table.delete(user_id)
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.user_id == user_id]:
                del self._sessions[token]
        self._forget_verified()
        self.ctx.events.record(EventCode.USER_REMOVED, f"User {user.user_name} was removed by "
                               f"{actor.name}.", user=actor.name)

    # Roles and permissions

    def roles(self) -> list[Role]:
        return list(ROLES)

    def role(self, role_id: str) -> Role:
        for role in ROLES:
            if role.id == role_id:
                return role
        raise NotFound(f"There is no role with id '{role_id}'.")

    def role_named(self, name: str) -> Role:
        for role in ROLES:
            if role.name.value.lower() == name.lower():
                return role
        known = ", ".join(r.name.value for r in ROLES)
        raise NotFound(f"There is no role named '{name}'; the roles are {known}.")

    @audited(AuditAction.USER_GRANT)
    def grant(self, *, user_id: str, role_id: str, object_type: ObjectType, object_id: str,
              actor: Actor) -> Permission:
        """Give a user a role on an object (SuperUser only on the system)."""
        require_superuser(actor, "grant permissions")
        user = self.get_user(user_id)
        role = self.role(role_id)
        if object_type is ObjectType.VM:
            self.ctx.store.vms.get(object_id)
            if role.administrative:
                raise InvalidInput(f"Role {role.name} can only be given on the system.")
        elif object_id != SYSTEM_OBJECT_ID:
            raise InvalidInput(f"The system object's id is {SYSTEM_OBJECT_ID}.")
        for existing in self.permissions_table.where(user_id=user_id, object_id=object_id):
            if existing.role_id == role_id:
                return existing
        permission = self._insert_permission(user.id, role.id, object_type, object_id)
        self.ctx.events.record(
            EventCode.PERMISSION_GRANTED, f"{actor.name} gave {user.user_name} role "
            f"{role.name} on {object_type.value} {object_id}.",
            user=actor.name)
        return permission

    @audited_read(AuditAction.USER_PERMISSIONS)
    def permissions(self, *, actor: Actor, object_id: str | None = None,
                    user_id: str | None = None) -> list[Permission]:
        conditions = {k: v for k, v in (("object_id", object_id), ("user_id", user_id))
                      if v is not None}
        found = self.permissions_table.where(**conditions)
        if actor.superuser:
            return found
        return [p for p in found if p.user_id == actor.user_id]

    @audited_read(AuditAction.USER_GET_PERMISSION)
    def get_permission(self, permission_id: str, *, actor: Actor) -> Permission:
        permission = self.permissions_table.get(permission_id)
        if not actor.superuser and permission.user_id != actor.user_id:
            raise NotFound(f"There is no permission with id '{permission_id}'.")
        return permission

    @audited(AuditAction.USER_REMOVE_PERMISSION)
    def remove_permission(self, permission_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove permissions")
        permission = self.permissions_table.get(permission_id)
        if permission.user_id == ADMIN_USER_ID and permission.object_type is ObjectType.SYSTEM:
            raise InvalidState("admin@internal keeps its SuperUser role.")
        self.permissions_table.delete(permission_id)

    # Helpers

    def _password_ok(self, user: User, password: str) -> bool:
        stored = (self.ctx.config.auth.admin_password_hash if user.id == ADMIN_USER_ID
                  else user.password_hash)
        key = hmac.new(self._cache_key, f"{user.id}\0{stored}\0{password}".encode(),
                       hashlib.sha256).digest()
        now = time.time()
        cached = self._verified.get(key)
        if cached is not None and cached[1] > now:
            return True
        if not stored or not verify_password(password, stored):
            return False
        if len(self._verified) > 1000:
            self._forget_verified()
        self._verified[key] = (user.id, now + 60.0)
        return True

    def _forget_verified(self) -> None:
        self._verified = {}

    def _insert_permission(self, user_id: str, role_id: str, object_type: ObjectType,
                           object_id: str) -> Permission:
        return self.permissions_table.insert(Permission(
            id=new_id(), user_id=user_id, role_id=role_id, object_type=object_type,
            object_id=object_id))

    def _ensure_admin(self) -> None:
        with self.ctx.store.db.transaction():
            if self.table.find(ADMIN_USER_ID) is None:
                self.table.insert(User(id=ADMIN_USER_ID, name="admin", created=time.time()))
            if not self.permissions_table.where(user_id=ADMIN_USER_ID,
                                                object_id=SYSTEM_OBJECT_ID):
                self._insert_permission(ADMIN_USER_ID, _role_id(RoleName.SUPER_USER),
                                        ObjectType.SYSTEM, SYSTEM_OBJECT_ID)


def _split_user_name(username: str) -> tuple[str, str]:
    """``jdoe@internal`` (or oVirt 4.4's ``internal-authz``) -> ("jdoe", "internal")."""
    name, _, domain = username.strip().partition("@")
    if domain not in ("", INTERNAL_DOMAIN, f"{INTERNAL_DOMAIN}-authz"):
        raise NotAuthenticated(f"Unknown login domain '{domain[:40]}': use "
                               f"user@{INTERNAL_DOMAIN}.")
    return name, INTERNAL_DOMAIN


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")


def _role_id(name: RoleName) -> str:
    return next(r.id for r in ROLES if r.name is name)
