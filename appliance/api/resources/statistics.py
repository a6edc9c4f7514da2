"""oVirt's Statistic type over the sampler's latest values
(``appliance.engine.monitoring.statistics``), as VMs (vms/statistics.py) and hosts
(hosts.py) list them."""

from __future__ import annotations

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.schema import Field, Kind, Type
from appliance.engine.monitoring.statistics import (
    Statistic,
    StatisticKind,
    StatisticUnit,
    ValueType,
)
from appliance.errors import NotFound

STATISTIC = Type(
    tag="statistic", plural="statistics", description="A measured value",
    fields=(Field("name", get=lambda s: s[0].name),
            Field("description", get=lambda s: s[0].description),
            Field("kind", get=lambda s: s[0].kind.value, values=tuple(StatisticKind)),
            Field("type", get=lambda s: s[0].type.value, values=tuple(ValueType)),
            Field("unit", get=lambda s: s[0].unit.value, values=tuple(StatisticUnit)),
            Field("values/value/datum", get=lambda s: s[0].datum),
            Field("values/value/detail", get=lambda s: s[0].text or None),
            Field("vm", Kind.REF, get=lambda s: s[1].get("vm"), ref="vms"),
            Field("host", Kind.REF, get=lambda s: s[1].get("host"), ref="hosts")))


def render(statistic: Statistic, collection: str, owner: str, refs: dict[str, str]) -> Node:
    node = STATISTIC.render((statistic, refs),
                            href=http.href(collection, owner, "statistics", statistic.id))
    node["id"] = statistic.id
    return node


def one(nodes: list[Node], statistic_id: str) -> Node:
    for node in nodes:
        if node["id"] == statistic_id:
            return node
    raise NotFound(f"There is no statistic with id '{statistic_id[:60]}'.")
