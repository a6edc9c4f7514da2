"""MAC address pools, as oVirt has them: each cluster hands its NICs MACs from its pool (the
Default pool unless it names another), the lowest free one first; a MAC already used in a
pool is refused unless the pool allows duplicates; a NIC may ask for a MAC outside the
ranges, as oVirt allows. The Default pool and pools in use are not removed."""

from __future__ import annotations

import builtins
import re
from collections import Counter
from dataclasses import dataclass, replace

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import DEFAULT_MAC_POOL_ID, MacPool, MacRange
from appliance.engine.store.schema import Store
from appliance.errors import InsufficientResources, InvalidInput, InvalidState, NameInUse

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
MAX_RANGE = 2**31  # oVirt's bound on the addresses of one range


@dataclass(frozen=True)
class MacPoolSpec:
    """A pool to add, or the changes of ``PUT`` (None: unchanged)."""

    name: str | None = None
    description: str | None = None
    ranges: tuple[MacRange, ...] | None = None
    allow_duplicates: bool | None = None


class MacPools:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[MacPool]:
        return self.ctx.store.mac_pools.all()

    def get(self, pool_id: str) -> MacPool:
        return self.ctx.store.mac_pools.get(pool_id)

    def find(self, pool_id: str) -> MacPool | None:
        return self.ctx.store.mac_pools.find(pool_id)

    def find_by_name(self, name: str) -> MacPool | None:
        return self.ctx.store.mac_pools.by_name(name)

    @audited(AuditAction.MAC_POOL_ADD)
    def add(self, spec: MacPoolSpec, *, actor: Actor) -> MacPool:
        require_superuser(actor, "add MAC address pools")
        pool = _checked(MacPool(id=new_id(), name=spec.name or "",
                                description=spec.description or "", ranges=spec.ranges or (),
                                allow_duplicates=bool(spec.allow_duplicates)))
        with self.ctx.store.db.transaction():
            self._require_free_name(pool)
            self.ctx.store.mac_pools.insert(pool)
        self.ctx.events.record(EventCode.MAC_POOL_ADDED, f"MAC pool {pool.name} was added by "
                               f"{actor.name}.", user=actor.name)
        return pool

    @audited(AuditAction.MAC_POOL_UPDATE)
    def update(self, pool_id: str, spec: MacPoolSpec, *, actor: Actor) -> MacPool:
        require_superuser(actor, "edit MAC address pools")
        with self.ctx.locks.hold(pool_id):
            current = self.get(pool_id)
            changed = _checked(replace(current, **{k: v for k, v in vars(spec).items()
                                                   if v is not None}))
            self._require_free_name(changed)
            if current.allow_duplicates and not changed.allow_duplicates:
                duplicated = _duplicates(used_macs(self.ctx.store, pool_id))
                if duplicated:
                    raise InvalidState(f"Cannot edit MAC Pool. Its NICs share MAC addresses "
                                       f"({', '.join(duplicated[:5])}): duplicates stay "
                                       "allowed until they are changed.")
            self.ctx.store.mac_pools.update(changed)
        self.ctx.events.record(EventCode.MAC_POOL_UPDATED, f"MAC pool {changed.name} was "
                               f"updated by {actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.MAC_POOL_REMOVE)
    def remove(self, pool_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove MAC address pools")
        pool = self.get(pool_id)
        if pool.default_pool:
            raise InvalidState("Cannot remove MAC Pool. The Default MAC pool cannot be "
                               "removed.")
        users = [c.name for c in self.ctx.store.clusters.all() if c.mac_pool_id == pool.id]
        if users:
            raise InvalidState(f"Cannot remove MAC Pool. It is used by clusters: "
                               f"{', '.join(users)}.")
        self.ctx.store.mac_pools.delete(pool.id)
        self.ctx.events.record(EventCode.MAC_POOL_REMOVED, f"MAC pool {pool.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    def _require_free_name(self, pool: MacPool) -> None:
        other = self.ctx.store.mac_pools.by_name(pool.name)
        if other is not None and other.id != pool.id:
            raise NameInUse(f"Cannot add MAC Pool. The name '{pool.name}' is already used.")


# Allocation, for the services that make NICs

def pool_of(store: Store, cluster_id: str) -> MacPool:
    cluster = store.clusters.get(cluster_id)
    found = store.mac_pools.find(cluster.mac_pool_id or DEFAULT_MAC_POOL_ID)
    if found is None:  # its pool was never made (a store older than pools)
        return MacPool(id=DEFAULT_MAC_POOL_ID, name="Default",
                       ranges=(bootstrap.default_mac_range(store),))
    return found


def used_macs(store: Store, pool_id: str, *, except_nic: str = "") -> builtins.list[str]:
    """The MACs of the VM NICs whose cluster takes them from ``pool_id``."""
    clusters = {c.id for c in store.clusters.all()
                if (c.mac_pool_id or DEFAULT_MAC_POOL_ID) == pool_id}
    vms = {v.id for v in store.vms.all() if v.cluster_id in clusters}
    return [n.mac for n in store.nics.all() if n.vm_id in vms and n.id != except_nic]


def allocate(store: Store, cluster_id: str, wanted: str | None = None, *,
             except_nic: str = "") -> str:
    """The MAC a NIC of a VM in ``cluster_id`` gets: ``wanted`` when the pool allows it,
    else the lowest free address of the pool's ranges. ``except_nic``: the NIC asking
    (a change of its own MAC)."""
    pool = pool_of(store, cluster_id)
    used = set(used_macs(store, pool.id, except_nic=except_nic))
    if wanted:
        mac = normalized(wanted)
        if mac in used and not pool.allow_duplicates:
            raise NameInUse(f"Cannot add Interface. The MAC address {mac} is already in use "
                            f"in MAC pool {pool.name}.")
        return mac
    for mac_range in pool.ranges:
        start, end = _number(mac_range.start), _number(mac_range.end)
        taken = {n for n in map(_number, used) if start <= n <= end}
        for candidate in range(start, end + 1):
            if candidate not in taken:
                return _text(candidate)
    raise InsufficientResources(f"Cannot add VM network interface. Not enough MAC addresses "
                                f"left in MAC Address Pool {pool.name}.")


def normalized(mac: str) -> str:
    text = mac.strip().lower().replace("-", ":")
    if not _MAC.fullmatch(text):
        raise InvalidInput(f"'{mac[:40]}' is not a MAC address (six hex pairs, "
                           "'56:6f:1a:00:00:01').")
    if int(text[:2], 16) & 1:  # libvirt refuses such a NIC when the VM starts
        raise InvalidInput(f"{text} is a multicast address; a NIC needs a unicast one (an "
                           "even first byte).")
    return text


def _checked(pool: MacPool) -> MacPool:
    validation.name(pool.name, noun="MAC pool")
    if not pool.ranges:
        raise InvalidInput(f"Cannot add MAC Pool. MAC pool {pool.name} needs at least one "
                           "<range> with <from> and <to>.")
    ranges = []
    for mac_range in pool.ranges:
        start, end = normalized(mac_range.start), normalized(mac_range.end)
        if _number(start) > _number(end):
            raise InvalidInput(f"Cannot add MAC Pool. The range {start} - {end} ends before "
                               "it starts.")
        if int(start[:2], 16) & 1:
            raise InvalidInput(f"Cannot add MAC Pool. {start} is a multicast address; a "
                               "NIC's MAC must be unicast (an even first byte).")
        if _number(end) - _number(start) >= MAX_RANGE:
            raise InvalidInput(f"Cannot add MAC Pool. The range {start} - {end} has more than "
                               f"{MAX_RANGE} addresses.")
        ranges.append(MacRange(start=start, end=end))
    return replace(pool, ranges=tuple(ranges))


def _duplicates(macs: builtins.list[str]) -> builtins.list[str]:
    return sorted(mac for mac, count in Counter(macs).items() if count > 1)


def _number(mac: str) -> int:
    return int(mac.replace(":", ""), 16)


def _text(number: int) -> str:
    raw = f"{number:012x}"
    return ":".join(raw[i:i + 2] for i in range(0, 12, 2))
