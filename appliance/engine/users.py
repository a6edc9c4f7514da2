"""Users, permissions and login sessions: who may act, checked in the engine.

``admin@internal`` takes its password from the configuration (firstboot sets it); other users
are made through the portal or the API and keep a scrypt hash here. A user added through the
API without a password (as oVirt adds directory users) cannot log in until the console sets
one (``virtstick user password``, the job of oVirt's ovirt-aaa-jdbc-tool). A permission gives
a user, or a group, a role on an object (grants.py): SuperUser on the system makes an
administrator, UserRole on a VM lets a user see and run it, UserVmManager also edit, remove
and share it. Tokens live in memory: a restart logs everyone out, as oVirt's SSO does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import validation
from appliance.engine.audit import audited, audited_login, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import (
    SYSTEM_OBJECT_ID,
    Actor,
    can_manage_vm,
    require_superuser,
)
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.grants import Grants, ObjectType, Permission
from appliance.engine.groups import Groups
from appliance.engine.ids import new_id
from appliance.engine.login_throttle import LoginThrottles
from appliance.engine.roles import Role, RoleName, Roles
from appliance.engine.store.tables import Table
from appliance.errors import (
    InvalidInput,
    InvalidState,
    NameInUse,
    NotAuthenticated,
    NotFound,
    VirtStickError,
)
from appliance.security.passwords import hash_password, verify_password

ADMIN_USER_ID = "fdfc627c-d875-11e0-90f0-83df133b58cc"  # oVirt's id for admin@internal
INTERNAL_DOMAIN = "internal"  # logins say jdoe@internal; oVirt's authz is internal-authz
MIN_PASSWORD_LENGTH = 8


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
class Session:
    token: str
    user_id: str
    address: str
    issued: float
    last_used: float


class Users:
    def __init__(self, ctx: EngineContext, *, roles: Roles, groups: Groups) -> None:
        self.ctx = ctx
        self.roles = roles
        self.groups = groups
        self.grants = Grants(ctx, roles)
        self.table: Table[User] = Table(ctx.store.db, name="users", cls=User, noun="user",
                                        columns=("name",))
        # What else goes with a removed user (their SSH keys): set by the engine.
        self.on_remove: list[Callable[[str], None]] = []
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
        name, _domain = split_user_name(username)
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
        rights = self.grants.rights_of(user.id, [g.id for g in self.groups.of_user(user.id)])
        return Actor(user_id=user.id, name=user.user_name, superuser=rights.superuser,
                     address=address, granted=rights.granted, managed=rights.managed,
                     permits=rights.permits)

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
        """By name, with or without the domain: ``jdoe``, ``jdoe@internal`` or
        ``jdoe@internal-authz``."""
        return self.table.by_name(name.partition("@")[0])

    @audited(AuditAction.USER_CREATE_USER)
    def create_user(self, name: str, password: str | None, *, actor: Actor, email: str = "",
                    first_name: str = "", last_name: str = "",
                    role: RoleName | None = RoleName.USER_ROLE) -> User:
        """A user of the internal domain; with ``role`` UserRole on the system they may make
        their own VMs. Without a password (``None``) they cannot log in until one is set."""
        require_superuser(actor, "add users")
        name, _domain = split_user_name(name, error=InvalidInput)
        validation.name(name, noun="user")
        if password is not None:
            _check_password(password)
        user = User(id=new_id(), name=name, email=email, first_name=first_name,
                    last_name=last_name, created=time.time(),
                    password_hash=hash_password(password) if password is not None else "")
        with self.ctx.store.db.transaction():
            if self.table.by_name(name) is not None:
                raise NameInUse(f"The user name '{name}' is already in use.")
            self.table.insert(user)
            if role is not None:
                self.grants.insert(role=self.roles.named(role), object_type=ObjectType.SYSTEM,
                                   object_id=SYSTEM_OBJECT_ID, user_id=user.id)
        self.ctx.events.record(EventCode.USER_ADDED, f"User {user.user_name} was added by "
                               f"{actor.name}.", user=actor.name)
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
        self.ctx.events.record(EventCode.USER_PASSWORD_SET, f"The password of {user.user_name} was "
                               f"set by {actor.name}.", user=actor.name)

    @audited(AuditAction.USER_REMOVE_USER)
    def remove_user(self, user_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove users")
        user = self.get_user(user_id)
        if user.id == ADMIN_USER_ID:
            raise InvalidState("admin@internal cannot be removed.")
        with self.ctx.store.db.transaction():
            self.grants.delete_all(self.grants.table.where(user_id=user_id))
            self.groups.forget_member(user_id)
            for forget in self.on_remove:
                forget(user_id)
            self.table.delete(user_id)
        with self._lock:
            for token in [t for t, s in self._sessions.items() if s.user_id == user_id]:
                del self._sessions[token]
        self._forget_verified()
        self.ctx.events.record(EventCode.USER_REMOVED, f"User {user.user_name} was removed by "
                               f"{actor.name}.", user=actor.name)

    # Permissions

    @audited(AuditAction.USER_GRANT)
    def grant(self, *, role_id: str, object_type: ObjectType, object_id: str, actor: Actor,
              user_id: str = "", group_id: str = "") -> Permission:
        """Give a user (or a group) a role on an object. A SuperUser gives any role; the
        owner or a UserVmManager of a VM gives user roles on it."""
        role = self.roles.get(role_id)
        self._may_grant(actor, role, object_type, object_id)
        holder = self._holder(user_id, group_id)
        self.grants.require_object(object_type, object_id)
        if role.name == RoleName.SUPER_USER and object_type is not ObjectType.SYSTEM:
            raise InvalidInput("Role SuperUser is given on the system only.")
        before = self.grants.table.count()
        permission = self.grants.insert(role=role, object_type=object_type,
                                        object_id=object_id, user_id=user_id,
                                        group_id=group_id)
        if self.grants.table.count() != before:
            self.ctx.events.record(EventCode.PERMISSION_GRANTED, f"{actor.name} gave {holder} role "
                                   f"{role.name} on {object_type.value} {object_id}.",
                                   user=actor.name)
        return permission

    @audited_read(AuditAction.USER_PERMISSIONS)
    def permissions(self, *, actor: Actor, object_id: str | None = None,
                    user_id: str | None = None, group_id: str | None = None,
                    ) -> list[Permission]:
        """A SuperUser sees every permission; others their own and those on the VMs they
        manage."""
        conditions = {k: v for k, v in (("object_id", object_id), ("user_id", user_id),
                                        ("group_id", group_id)) if v is not None}
        return [p for p in self.grants.where(**conditions) if self._sees(actor, p)]

    @audited_read(AuditAction.USER_PERMISSIONS_ON)
    def permissions_on(self, object_type: ObjectType, object_id: str, *,
                       actor: Actor) -> list[Permission]:
        """The permissions on one object (NotFound when there is no such object)."""
        self.grants.require_object(object_type, object_id)
        return self.permissions(actor=actor, object_id=object_id)

    @audited_read(AuditAction.USER_GET_PERMISSION)
    def get_permission(self, permission_id: str, *, actor: Actor) -> Permission:
        found = [p for p in self.grants.where(id=permission_id) if self._sees(actor, p)]
        if not found:
            raise NotFound(f"There is no permission with id '{permission_id[:60]}'.")
        return found[0]

    @audited(AuditAction.USER_REMOVE_PERMISSION)
    def remove_permission(self, permission_id: str, *, actor: Actor) -> None:
        permission = self.get_permission(permission_id, actor=actor)
        self._may_grant(actor, self.roles.get(permission.role_id), permission.object_type,
                        permission.object_id)
        if permission.user_id == ADMIN_USER_ID and permission.object_type is ObjectType.SYSTEM:
            raise InvalidState("admin@internal keeps its SuperUser role.")
        self.grants.table.delete(permission.id)
        self.ctx.events.record(EventCode.PERMISSION_REMOVED, f"{actor.name} removed permission "
                               f"{permission.id} on {permission.object_type.value} "
                               f"{permission.object_id}.", user=actor.name)

    @audited(AuditAction.USER_REMOVE_GROUP)
    def remove_group(self, group_id: str, *, actor: Actor) -> None:
        """The group and the permissions it held."""
        group = self.groups.remove(group_id, actor=actor)
        self.grants.delete_all(self.grants.table.where(group_id=group.id))

    @audited(AuditAction.USER_REMOVE_ROLE)
    def remove_role(self, role_id: str, *, actor: Actor) -> None:
        """A custom role that no permission gives."""
        self.roles.remove(role_id, actor=actor, in_use=self.grants.role_in_use(role_id))

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

    def _may_grant(self, actor: Actor, role: Role, object_type: ObjectType,
                   object_id: str) -> None:
        if actor.superuser:
            return
        vm = (self.ctx.store.vms.find(object_id) if object_type is ObjectType.VM else None)
        if vm is None or role.administrative or not can_manage_vm(actor, vm):
            require_superuser(actor, "grant or remove permissions")

    def _sees(self, actor: Actor, permission: Permission) -> bool:
        if actor.superuser or (permission.user_id and permission.user_id == actor.user_id):
            return True
        if permission.object_type is not ObjectType.VM:
            return False
        vm = self.ctx.store.vms.find(permission.object_id)
        return vm is not None and can_manage_vm(actor, vm)

    def _holder(self, user_id: str, group_id: str) -> str:
        """Who a new permission is for, by name: exactly one user or one group."""
        if bool(user_id) == bool(group_id):
            raise InvalidInput("A permission is for a <user> or for a <group>: name one.")
        if user_id:
            return self.get_user(user_id).user_name
        group = self.groups.table.find(group_id)
        if group is None:
            raise NotFound(f"There is no group with id '{group_id[:60]}'.")
        return f"group {group.name}"

    def _ensure_admin(self) -> None:
        with self.ctx.store.db.transaction():
            if self.table.find(ADMIN_USER_ID) is None:
                self.table.insert(User(id=ADMIN_USER_ID, name="admin", created=time.time()))
            self.grants.insert(role=self.roles.named(RoleName.SUPER_USER),
                               object_type=ObjectType.SYSTEM, object_id=SYSTEM_OBJECT_ID,
                               user_id=ADMIN_USER_ID)


def split_user_name(username: str, *, error: type[VirtStickError] = NotAuthenticated,
                    ) -> tuple[str, str]:
    """``jdoe``, ``jdoe@internal`` or oVirt's ``jdoe@internal-authz`` -> ("jdoe",
    "internal"); another domain fails with ``error``."""
    name, _, domain = username.strip().partition("@")
    if domain not in ("", INTERNAL_DOMAIN, f"{INTERNAL_DOMAIN}-authz"):
        raise error(f"Unknown domain '{domain[:40]}': VirtStick's users are "
                    f"user@{INTERNAL_DOMAIN} (oVirt's {INTERNAL_DOMAIN}-authz).")
    return name, INTERNAL_DOMAIN


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")

