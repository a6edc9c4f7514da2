"""``/macpools``: where clusters' NICs get their MAC addresses (ranges, duplicates allowed or
not); the Default pool is every cluster's until it names another."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.mac_pools import MacPoolSpec
from appliance.engine.model import MacPool, MacRange
from appliance.errors import InvalidInput


def _ranges(pool: MacPool) -> Node:
    return {"range": [{"from": r.start, "to": r.end} for r in pool.ranges]}


MAC_POOL = Type(
    tag="mac_pool", plural="macpools", description="A MAC address pool",
    links=("permissions",), accepted=frozenset({"ranges"}),
    fields=(Field("name", get=lambda p: p.name, writable=True),
            Field("description", get=lambda p: p.description, writable=True),
            Field("allow_duplicates", Kind.BOOLEAN, get=lambda p: p.allow_duplicates,
                  writable=True),
            Field("default_pool", Kind.BOOLEAN, get=lambda p: p.default_pool),
            Field("ranges", Kind.REF, get=_ranges)))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, MAC_POOL, lambda: http.engine().mac_pools)
    routes.add("/macpools", Operation.ADD, tag="mac_pool",
               summary="Add a MAC address pool")(add_pool)
    routes.add("/macpools/<pool_id>", Operation.UPDATE, tag="mac_pool",
               summary="Change a MAC address pool")(update_pool)
    routes.add("/macpools/<pool_id>", Operation.REMOVE, tag="mac_pool",
               summary="Remove a MAC address pool no cluster uses")(remove_pool)


def add_pool() -> Response:
    spec = _spec(http.read_node(MAC_POOL.tag))
    if not spec.name:
        raise InvalidInput("A new MAC pool needs a <name>.")
    made = http.engine().mac_pools.add(spec, actor=http.actor())
    return http.respond_object(MAC_POOL, made, created=True)


def update_pool(pool_id: str) -> Response:
    spec = _spec(http.read_node(MAC_POOL.tag))
    return http.respond_object(MAC_POOL, http.engine().mac_pools.update(
        pool_id, spec, actor=http.actor()))


def remove_pool(pool_id: str) -> Response:
    http.engine().mac_pools.remove(pool_id, actor=http.actor())
    return Response(status=200)


def _spec(node: Node) -> MacPoolSpec:
    values = MAC_POOL.read(node)
    ranges = node.get("ranges")
    return MacPoolSpec(name=values.get("name"), description=values.get("description"),
                       allow_duplicates=values.get("allow_duplicates"),
                       ranges=_read_ranges(ranges) if ranges is not None else None)


def _read_ranges(node: Any) -> tuple[MacRange, ...]:
    items = node.get("range", []) if isinstance(node, dict) else []
    items = [items] if isinstance(items, dict) else items
    found = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("from"), str)
                and isinstance(item.get("to"), str)):
            raise InvalidInput("Each <range> of a MAC pool has a <from> and a <to> address.")
        found.append(MacRange(start=item["from"], end=item["to"]))
    return tuple(found)
