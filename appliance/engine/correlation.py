"""The correlation id of the request being served: oVirt's clients send ``?correlation_id=X``
on an action and then look its jobs up with ``jobs?search=correlation_id=X``.

The face that serves a request opens a scope for its id; every job begun and every event
recorded while the scope is open carries it, whichever service starts the job (a clone, a
disk removal, a pool's VMs), so no service has to pass the id along by hand. A job's
background work runs in a copy of the scope, so the jobs it starts carry the id too.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass, field


@dataclass
class Scope:
    """One request's correlation id and the jobs begun under it so far."""

    correlation_id: str
    job_ids: list[str] = field(default_factory=list)


_CURRENT: ContextVar[Scope | None] = ContextVar("virtstick_correlation", default=None)


def open_scope(correlation_id: str) -> Token[Scope | None]:
    """Start a scope (close it with the token: ``close_scope``)."""
    return _CURRENT.set(Scope(correlation_id[:200]))


def close_scope(token: Token[Scope | None]) -> None:
    _CURRENT.reset(token)


def current() -> Scope | None:
    return _CURRENT.get()


def current_id() -> str:
    scope = _CURRENT.get()
    return scope.correlation_id if scope is not None else ""
