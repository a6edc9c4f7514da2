"""The audit trail: every user action - who, from where, what, on which object, when, and
whether it was done, denied or failed.

Recording is one hook, not a line in every service method: ``AuditLog.instrument(engine)``
wraps each public method of the engine's services that takes ``actor=`` (the convention of
every service), so actions added later are audited too. Reads (``list``, ``get``, ...) are
recorded only when they are denied. Nested calls (removing a VM removes its disks) record
only the outer action. The system's own work (``SYSTEM``) is not a user action.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from appliance.engine.authz import SYSTEM, Actor
from appliance.engine.store import Database
from appliance.errors import NotAuthenticated, PermissionDenied, VirtStickError

log = logging.getLogger("virtstick.audit")

_READS = ("list", "get", "find", "search", "count", "sizes", "usage", "statistics", "history",
          "permissions", "roles", "role")


class AuditResult(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILED = "failed"


@dataclass(frozen=True)
class AuditRecord:
    id: int
    time: float
    user: str
    user_id: str
    address: str
    action: str  # "<noun>.<verb>", e.g. vm.start
    target: str  # the object's id or name, as the caller named it
    result: AuditResult
    detail: str = ""  # why it was denied or failed


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._depth = threading.local()
        self._instrumented: set[int] = set()

    def record(self, *, actor: Actor, action: str, target: str, result: AuditResult,
               detail: str = "") -> AuditRecord:
        entry = AuditRecord(id=0, time=time.time(), user=actor.name, user_id=actor.user_id,
                            address=actor.address, action=action, target=target,
                            result=result, detail=detail)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO audit (time, user, address, action, target, result, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry.time, entry.user, entry.address, action, target, result.value,
                 json.dumps({"user_id": entry.user_id, "detail": detail})))
        log.info("%s from %s: %s %s: %s", entry.user, entry.address or "-", action, target,
                 result.value)
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

    def instrument(self, owner: object) -> list[str]:
        """Wrap the actions of every service held by ``owner`` (the engine); returns their
        names, ``noun.verb``."""
        wrapped = []
        for attribute, service in list(vars(owner).items()):
            if attribute.startswith("_") or isinstance(service, type) or service is self:
                continue
            wrapped += self.instrument_service(service, noun=attribute.removesuffix("s"))
        return wrapped

    def instrument_service(self, service: object, *, noun: str) -> list[str]:
        if id(service) in self._instrumented or not hasattr(service, "__dict__"):
            return []
        wrapped = []
        for name, function in inspect.getmembers(type(service), inspect.isfunction):
            if name.startswith("_") or not _takes_actor(function):
                continue
            action = f"{noun}.{name}"
            setattr(service, name, self._wrap(getattr(service, name), action,
                                              read=name.startswith(_READS)))
            wrapped.append(action)
        if callable(getattr(service, "authenticate", None)):
            service.authenticate = self._wrap_login(service.authenticate)  # type: ignore[attr-defined]
            wrapped.append("user.login")
        if wrapped:
            self._instrumented.add(id(service))
        return wrapped

    def _wrap(self, method: Callable[..., Any], action: str, *,
              read: bool) -> Callable[..., Any]:
        @functools.wraps(method)
        def audited(*args: Any, **kwargs: Any) -> Any:
            actor = kwargs.get("actor")
            depth = getattr(self._depth, "value", 0)
            if not isinstance(actor, Actor) or actor.user_id == SYSTEM.user_id or depth:
                return method(*args, **kwargs)
            self._depth.value = depth + 1
            try:
                value = method(*args, **kwargs)
            except (PermissionDenied, NotAuthenticated) as exc:
                self._safely(actor, action, _target(args, kwargs, None), AuditResult.DENIED,
                             exc.detail)
                raise
            except Exception as exc:
                if not read:
                    detail = exc.detail if isinstance(exc, VirtStickError) else repr(exc)
                    self._safely(actor, action, _target(args, kwargs, None),
                                 AuditResult.FAILED, detail)
                raise
            finally:
                self._depth.value = depth
            if not read:
                self._safely(actor, action, _target(args, kwargs, value), AuditResult.SUCCESS)
            return value

        return audited

    def _wrap_login(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """Logging in has no actor yet: who is the name given, and a refusal is a denial."""

        @functools.wraps(method)
        def audited(username: str, *args: Any, **kwargs: Any) -> Any:
            address = str(kwargs.get("address", ""))
            try:
                actor = method(username, *args, **kwargs)
            except VirtStickError as exc:
                who = Actor(user_id="", name=username[:64], address=address)
                self._safely(who, "user.login", username[:64], AuditResult.DENIED, exc.detail)
                raise
            if isinstance(actor, Actor):
                self._safely(actor, "user.login", actor.name, AuditResult.SUCCESS)
            return actor

        return audited

    def _safely(self, actor: Actor, action: str, target: str, result: AuditResult,
                detail: str = "") -> None:
        # The action has happened (or was refused); a failing audit write must not undo or
        # mask that, but it must be loud.
        try:
            self.record(actor=actor, action=action, target=target, result=result,
                        detail=detail)
        except Exception:
            log.exception("could not record audit entry for %s %s", action, target)


def _takes_actor(function: Callable[..., Any]) -> bool:
    parameter = inspect.signature(function).parameters.get("actor")
    return parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY


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
