"""The event log: what happened, to which object, how serious; the audit trail reads it too."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from appliance.engine import correlation
from appliance.engine.audit import audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, can_use_vm
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.loggable import loggable
from appliance.engine.model import Event
from appliance.engine.store import Database, codec
from appliance.errors import NotFound

if TYPE_CHECKING:  # the context holds the event log
    from appliance.engine.context import EngineContext

log = logging.getLogger("virtstick.events")


class EventLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._watchers: tuple[Callable[[Event], None], ...] = ()

    def watch(self, watcher: Callable[[Event], None]) -> None:
        """Call ``watcher`` with each event once it is committed (the engine's change feed)."""
        self._watchers = (*self._watchers, watcher)

    def record(self, code: EventCode, description: str, *,
               severity: EventSeverity = EventSeverity.NORMAL, vm_id: str | None = None,
               host_id: str | None = None, storage_domain_id: str | None = None,
               user: str = "", correlation_id: str = "") -> Event:
        correlation_id = correlation_id or correlation.current_id()
        event = Event(id=0, time=time.time(), severity=severity, code=code,
                      description=description, vm_id=vm_id, host_id=host_id,
                      storage_domain_id=storage_domain_id, user=user,
                      correlation_id=correlation_id)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO events (time, severity, vm_id, host_id, correlation_id, data) "
                "VALUES (?, ?, ?, ?, ?, '{}')",
                (event.time, event.severity.value, vm_id, host_id, correlation_id),
            )
            event = replace(event, id=int(cursor.lastrowid or 0))
            conn.execute("UPDATE events SET data = ? WHERE id = ?",
                         (codec.encode(event), event.id))
        log.log(_LEVELS[severity], "%s: %s", code, loggable(description))
        for watcher in self._watchers:
            self.db.after_commit(functools.partial(watcher, event))
        return event

    def get(self, event_id: int) -> Event | None:
        rows = self.db.query("SELECT data FROM events WHERE id = ?", (event_id,))
        return codec.decode(Event, rows[0]["data"]) if rows else None

    def recent(self, *, limit: int = 100, vm_id: str | None = None,
               since_id: int = 0) -> list[Event]:
        sql = "SELECT data FROM events WHERE id > ?"
        params: list[object] = [since_id]
        if vm_id is not None:
            sql += " AND vm_id = ?"
            params.append(vm_id)
        rows = self.db.query(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
        return [codec.decode(Event, row["data"]) for row in rows]


class VisibleEvents:
    """The event log as users read it: a SuperUser sees every event, others the events of
    the VMs they may use."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    @audited_read(AuditAction.VISIBLE_EVENT_LIST)
    def list(self, *, actor: Actor, limit: int = 100, since_id: int = 0) -> list[Event]:
        """Newest first: the visible ones among the latest ``limit`` events."""
        events = self.ctx.events.recent(limit=limit, since_id=since_id)
        return [e for e in events if self._visible(e, actor)]

    @audited_read(AuditAction.VISIBLE_EVENT_GET)
    def get(self, event_id: int, *, actor: Actor) -> Event:
        found = self.ctx.events.get(event_id)
        if found is None or not self._visible(found, actor):
            raise NotFound(f"There is no event with id '{event_id}'.")
        return found

    def _visible(self, event: Event, actor: Actor) -> bool:
        if actor.superuser:
            return True
        if event.vm_id is None:
            return False
        vm = self.ctx.store.vms.find(event.vm_id)
        return vm is not None and can_use_vm(actor, vm)


_LEVELS = {
    EventSeverity.NORMAL: logging.INFO,
    EventSeverity.WARNING: logging.WARNING,
    EventSeverity.ERROR: logging.ERROR,
    EventSeverity.ALERT: logging.ERROR,
}
