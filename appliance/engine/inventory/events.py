"""Read model of the events list: each event with the names of the VM and host it is about,
looked up once per page, so the list names them instead of showing ids."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import Event
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class EventRow:
    event: Event
    vm_name: str  # "" when the event is about no VM
    vm_exists: bool  # False for a VM removed since (its page is gone)
    host_name: str


def event_rows(store: Store, events: list[Event]) -> list[EventRow]:
    vms = {r["id"]: r["name"] for r in store.db.query("SELECT id, name FROM vms")}
    hosts = {h.id: h.name for h in store.hosts.all()}
    return [EventRow(event=e, vm_name=_vm_name(e, vms), vm_exists=e.vm_id in vms,
                     host_name=hosts.get(e.host_id or "", "")) for e in events]


def _vm_name(event: Event, vms: dict[str, str]) -> str:
    if not event.vm_id:
        return ""
    return vms.get(event.vm_id, "a removed VM")
