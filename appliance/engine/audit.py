"""The audit trail: every user action - who, from where, what, on which object, when, and
whether it was done, denied or failed.

Each service method declares its record where it is defined: ``@audited(AuditAction.VM_START)``
for an action, ``@audited_read(AuditAction.VM_LIST)`` for a read (recorded only when it is
denied), ``@audited_login`` for logging in, ``@filtered_read`` for a read that never refuses
(it shows only what the actor may see) and so has nothing to record. The record reaches the
log through the service's own context (``self.ctx.audit``), so a service made outside the
engine is audited too, and a renamed method keeps its action's name. Nested calls (removing a
VM removes its disks) record only the outer action. The system's own work (``SYSTEM``) is not
a user action.

An action that goes on in background jobs (an OVA import) is recorded as started when it is
accepted, and its entry then takes the jobs' outcome: failed, with why, if any job failed.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeVar

from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.enums import JobStatus
from appliance.engine.loggable import loggable
from appliance.engine.model import Job
from appliance.engine.store import Database
from appliance.errors import NotAuthenticated, PermissionDenied, VirtStickError

if TYPE_CHECKING:  # jobs' own reads are declared here: no import at run time
    from appliance.engine.jobs import Jobs

log = logging.getLogger("virtstick.audit")

P = ParamSpec("P")
R = TypeVar("R")


class AuditResult(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"
    STARTED = "started"  # accepted; its jobs have not ended yet


class AuditKind(StrEnum):
    ACTION = "action"  # recorded whatever its outcome
    READ = "read"  # recorded only when denied
    LOGIN = "login"  # no actor yet: who is the name given
    FILTERED = "filtered"  # shows what the actor may see, never refuses: nothing to record


@dataclass(frozen=True)
class AuditRecord:
    id: int
    time: float
    user: str
    user_id: str
    address: str
    action: str  # "<noun>.<verb>", e.g. vm.start (an AuditAction)
    target: str  # the object's id or name, as the caller named it
    result: AuditResult
    detail: str = ""  # why it was denied or failed


@dataclass(frozen=True)
class AuditDeclaration:
    action: AuditAction
    kind: AuditKind


class _Depth(threading.local):
    value = 0  # audited calls under way in this thread


RESTARTED = "the service restarted before it finished"


class AuditLog:
    def __init__(self, db: Database, jobs: Jobs) -> None:
        self.db = db
        self.jobs = jobs
        self._depth = _Depth()

    def record(self, *, actor: Actor, action: AuditAction, target: str, result: AuditResult,
               detail: str = "") -> AuditRecord:
        entry = AuditRecord(id=0, time=time.time(), user=actor.name, user_id=actor.user_id,
                            address=actor.address, action=action.value, target=target,
                            result=result, detail=detail)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO audit (time, user, address, action, target, result, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry.time, entry.user, entry.address, entry.action, target, result.value,
                 json.dumps({"user_id": entry.user_id, "detail": detail})))
        log.info("%s from %s: %s %s: %s", loggable(entry.user), loggable(entry.address) or "-",
                 entry.action, loggable(target), result.value)
        return AuditRecord(**{**asdict(entry), "id": int(cursor.lastrowid or 0)})

    def search(self, *, user: str | None = None, action: str | None = None,
               result: AuditResult | None = None, since: float | None = None,
               until: float | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        clauses: list[str] = ["1 = 1"]
        params: list[object] = []
        for column, value in (("user", user), ("action", action),
                              ("result", result.value if result else None)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if since is not None:
            clauses.append("time >= ?")
            params.append(since)
        if until is not None:
            clauses.append("time < ?")
            params.append(until)
        rows = self.db.query(
            f"SELECT * FROM audit WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
            (*params, limit))
        return [_entry(row) for row in rows]

    def perform(self, declared: AuditDeclaration, call: Callable[[], R], *, actor: object,
                target: Callable[[object], str]) -> R:
        """Run a declared action or read for ``actor`` and record how it went."""
        depth = self._depth.value
        if not isinstance(actor, Actor) or actor.user_id == SYSTEM.user_id or depth:
            return call()
        read = declared.kind is AuditKind.READ
        self._depth.value = depth + 1
        try:
            with self.jobs.started_here() as started:
                value = call()
        except (PermissionDenied, NotAuthenticated) as exc:
            self._safely(actor, declared.action, target(None), AuditResult.DENIED, exc.detail)
            raise
        except Exception as exc:
            if not read:
                self._safely(actor, declared.action, target(None), AuditResult.FAILED,
                             _detail(exc))
            raise
        finally:
            self._depth.value = depth
        if read:
            return value
        if not started:
            self._safely(actor, declared.action, target(value), AuditResult.SUCCESS)
            return value
        entry = self._safely(actor, declared.action, target(value), AuditResult.STARTED)
        if entry is not None:
            self.jobs.when_done(list(started), lambda jobs: self._settle(entry, jobs))
        return value

    def abort_unfinished(self) -> None:
        """Actions whose jobs a previous process left running never finished."""
        rows = self.db.query("SELECT id, data FROM audit WHERE result = ?",
                             (AuditResult.STARTED.value,))
        with self.db.transaction() as conn:
            for row in rows:
                conn.execute("UPDATE audit SET result = ?, data = ? WHERE id = ?",
                             (AuditResult.FAILED.value,
                              json.dumps({**json.loads(row["data"]), "detail": RESTARTED}),
                              row["id"]))

    def login(self, username: str, call: Callable[[], Actor], *, address: str) -> Actor:
        """Logging in has no actor yet: who is the name given, and a refusal is a denial."""
        try:
            actor = call()
        except VirtStickError as exc:
            who = Actor(user_id="", name=username[:64], address=address)
            self._safely(who, AuditAction.USER_LOGIN, username[:64], AuditResult.DENIED,
                         exc.detail)
            raise
        self._safely(actor, AuditAction.USER_LOGIN, actor.name, AuditResult.SUCCESS)
        return actor

    def _settle(self, entry: AuditRecord, jobs: list[Job]) -> None:
        """The started entry takes its jobs' outcome."""
        failed = [j for j in jobs if j.status is not JobStatus.FINISHED]
        result = AuditResult.FAILED if failed else AuditResult.SUCCESS
        detail = "; ".join(j.error or j.status.value for j in failed)
        try:
            with self.db.transaction() as conn:
                conn.execute("UPDATE audit SET result = ?, data = ? WHERE id = ?",
                             (result.value, json.dumps({"user_id": entry.user_id,
                                                        "detail": detail}), entry.id))
        except Exception:
            log.exception("could not settle audit entry %d (%s)", entry.id, entry.action)
            return
        log.info("%s from %s: %s %s: %s", entry.user, entry.address or "-", entry.action,
                 entry.target, result.value)

    def _safely(self, actor: Actor, action: AuditAction, target: str, result: AuditResult,
                detail: str = "") -> AuditRecord | None:
        # The action has happened (or was refused); a failing audit write must not undo or
        # mask that, but it must be loud.
        try:
            return self.record(actor=actor, action=action, target=target, result=result,
                               detail=detail)
        except Exception:
            log.exception("could not record audit entry for %s %s", action, target)
            return None


# Declaring

class _HoldsAuditLog(Protocol):
    @property
    def audit(self) -> AuditLog: ...


class AuditedService(Protocol):
    """What a service with audited methods has: a context holding the audit log."""

    @property
    def ctx(self) -> _HoldsAuditLog: ...


S = TypeVar("S", bound=AuditedService)
F = TypeVar("F", bound=Callable[..., Any])
_DECLARED: dict[object, AuditDeclaration] = {}


def audited(action: AuditAction) -> Callable[[Callable[Concatenate[S, P], R]],
                                             Callable[Concatenate[S, P], R]]:
    """A user action: recorded as done, denied or failed."""
    return _declare(AuditDeclaration(action, AuditKind.ACTION))


def audited_read(action: AuditAction) -> Callable[[Callable[Concatenate[S, P], R]],
                                                  Callable[Concatenate[S, P], R]]:
    """A read: recorded only when it is denied."""
    return _declare(AuditDeclaration(action, AuditKind.READ))


def audited_login(method: Callable[Concatenate[S, str, P], Actor]
                  ) -> Callable[Concatenate[S, str, P], Actor]:
    """Logging in (``user.login``): the user name comes first, the ``address`` by keyword."""

    @functools.wraps(method)
    def login(service: S, username: str, /, *args: P.args, **kwargs: P.kwargs) -> Actor:
        return service.ctx.audit.login(username, lambda: method(service, username, *args,
                                                                 **kwargs),
                                       address=str(kwargs.get("address", "")))

    _DECLARED[login] = AuditDeclaration(AuditAction.USER_LOGIN, AuditKind.LOGIN)
    return login


def filtered_read(action: AuditAction) -> Callable[[F], F]:
    """A read that shows the actor only what they may see instead of refusing: it is never
    denied, so it records nothing and needs no audit log (``Jobs``, below it, has these)."""

    def declare(method: F) -> F:
        _DECLARED[method] = AuditDeclaration(action, AuditKind.FILTERED)
        return method

    return declare


def declaration(function: object) -> AuditDeclaration | None:
    """How a service method is audited, if it was declared."""
    return _DECLARED.get(function)


def _declare(declared: AuditDeclaration) -> Callable[[Callable[Concatenate[S, P], R]],
                                                     Callable[Concatenate[S, P], R]]:
    def decorate(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        @functools.wraps(method)
        def audited_method(service: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            return service.ctx.audit.perform(
                declared, lambda: method(service, *args, **kwargs), actor=kwargs.get("actor"),
                target=lambda value: _target(args, kwargs, value))

        _DECLARED[audited_method] = declared
        return audited_method

    return decorate


def _detail(exc: Exception) -> str:
    return exc.detail if isinstance(exc, VirtStickError) else repr(exc)


def _target(args: tuple[Any, ...], kwargs: dict[str, Any], value: Any) -> str:
    """The object acted on: the id passed in, else the request's name, else the new
    object's id."""
    first = args[0] if args else None
    if isinstance(first, str):
        return first
    name = getattr(first, "name", None)
    made = getattr(value, "id", None)
    if isinstance(name, str):
        return f"{name} ({made})" if isinstance(made, str) else name
    if isinstance(made, str):
        return made
    ids = [f"{k}={v}" for k, v in kwargs.items() if k.endswith("id") and isinstance(v, str)]
    return ", ".join(ids)


def _entry(row: Any) -> AuditRecord:
    extra = json.loads(row["data"])
    return AuditRecord(id=int(row["id"]), time=float(row["time"]), user=str(row["user"]),
                       user_id=str(extra.get("user_id", "")), address=str(row["address"]),
                       action=str(row["action"]), target=str(row["target"]),
                       result=AuditResult(row["result"]), detail=str(extra.get("detail", "")))
