"""``/clusters/{id}/affinitygroups``: affinity groups as oVirt's model has them, kept exactly
as sent: ``vms_rule`` and ``hosts_rule`` (enabled, positive, enforcing), the legacy
``positive``/``enforcing`` (the VM-to-VM rule) when no ``vms_rule`` is sent, and the
``vms``, ``hosts``, ``vmlabels`` and ``hostlabels`` sub-collections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.affinity_groups import GroupSpec, Member
from appliance.engine.enums import AffinityPolarity
from appliance.engine.model import AffinityGroup, AffinityRule
from appliance.errors import InvalidInput

AFFINITY_GROUP = Type(
    tag="affinity_group", plural="affinitygroups",
    description="VMs that should share a host, or not, and run on some hosts, or not",
    links=("vms", "hosts", "vmlabels", "hostlabels"),
    accepted=frozenset({"broken", "cluster", "comment", "enforcing", "host_labels", "hosts",
                        "hosts_rule", "positive", "vm_labels", "vms", "vms_rule"}),
    fields=(
        Field("name", get=lambda g: g.name, writable=True),
        Field("description", get=lambda g: g.description or None, writable=True),
        Field("priority", get=lambda g: f"{g.priority:g}", writable=True),
        Field("cluster", Kind.REF, get=lambda g: g.cluster_id, ref="clusters"),
        Field("positive", Kind.BOOLEAN,
              get=lambda g: g.vms_rule.positive if g.vms_rule.enabled else None),
        Field("enforcing", Kind.BOOLEAN, get=lambda g: g.vms_rule.enforcing),
        *(Field(f"{side}/{part}", Kind.BOOLEAN, get=getter)
          for side, rule in (("vms_rule", lambda g: g.vms_rule),
                             ("hosts_rule", lambda g: g.hosts_rule))
          for part, getter in (
              ("enabled", lambda g, r=rule: r(g).enabled),
              ("enforcing", lambda g, r=rule: r(g).enforcing),
              ("positive", lambda g, r=rule: r(g).positive))),
    ),
)

# Each member kind: the element of one member, its collection, and where its ids point.
_ELEMENTS: dict[Member, tuple[str, str, str]] = {
    Member.VM: ("vm", "vms", "vms"), Member.HOST: ("host", "hosts", "hosts"),
    Member.VM_LABEL: ("affinity_label", "vm_labels", "affinitylabels"),
    Member.HOST_LABEL: ("affinity_label", "host_labels", "affinitylabels"),
}


def install(routes: Routes) -> None:
    base = "/clusters/<cluster_id>/affinitygroups"
    routes.add(base, Operation.LIST, tag="affinity_group",
               summary="List a cluster's affinity groups")(list_groups)
    routes.add(base, Operation.ADD, tag="affinity_group",
               summary="Add an affinity group")(add_group)
    one = f"{base}/<group_id>"
    routes.add(one, Operation.GET, tag="affinity_group",
               summary="Get an affinity group")(get_group)
    routes.add(one, Operation.UPDATE, tag="affinity_group",
               summary="Change an affinity group")(update_group)
    routes.add(one, Operation.REMOVE, tag="affinity_group",
               summary="Remove an affinity group")(remove_group)
    for kind in Member:
        _install_members(routes, one, kind)


def _install_members(routes: Routes, base: str, kind: Member) -> None:
    tag = _ELEMENTS[kind][0]

    def list_view(cluster_id: str, group_id: str) -> Response:
        group = http.engine().affinity_groups.get(cluster_id, group_id)
        return http.respond_list(_member_type(kind), [_ref(kind, i) for i in kind.of(group)])

    def add_view(cluster_id: str, group_id: str) -> Response:
        member_id = _member_id(kind, http.read_node(tag))
        http.engine().affinity_groups.add_member(cluster_id, group_id, kind, member_id,
                                                 actor=http.actor())
        node = _ref(kind, member_id)
        return http.respond(tag, node, status=201, location=node["href"])

    def remove_view(cluster_id: str, group_id: str, member_id: str) -> Response:
        http.engine().affinity_groups.remove_member(cluster_id, group_id, kind, member_id,
                                                    actor=http.actor())
        return Response(status=200)

    for view, verb in ((list_view, "list"), (add_view, "add"), (remove_view, "remove")):
        view.__name__ = f"{verb}_affinity_group_{kind.value}"
    noun = kind.noun
    routes.add(f"{base}/{kind.value}", Operation.LIST, tag=tag,
               summary=f"The {noun}s of an affinity group")(list_view)
    routes.add(f"{base}/{kind.value}", Operation.ADD, tag=tag,
               summary=f"Put a {noun} in an affinity group")(add_view)
    routes.add(f"{base}/{kind.value}/<member_id>", Operation.REMOVE, tag=tag,
               summary=f"Take a {noun} out of an affinity group")(remove_view)


def list_groups(cluster_id: str) -> Response:
    groups = http.engine().affinity_groups.list(cluster_id)
    return listing.list_response(AFFINITY_GROUP, groups, render=render)


def get_group(cluster_id: str, group_id: str) -> Response:
    group = http.engine().affinity_groups.get(cluster_id, group_id)
    return http.respond(AFFINITY_GROUP.tag, render(group))


def add_group(cluster_id: str) -> Response:
    node = http.read_node(AFFINITY_GROUP.tag)
    group = http.engine().affinity_groups.add(cluster_id, _spec(node, None),
                                              actor=http.actor())
    rendered = render(group)
    return http.respond(AFFINITY_GROUP.tag, rendered, status=201, location=rendered["href"])


def update_group(cluster_id: str, group_id: str) -> Response:
    engine = http.engine()
    current = engine.affinity_groups.get(cluster_id, group_id)
    node = http.read_node(AFFINITY_GROUP.tag)
    group = engine.affinity_groups.update(cluster_id, group_id, _spec(node, current),
                                          actor=http.actor())
    return http.respond(AFFINITY_GROUP.tag, render(group))


def remove_group(cluster_id: str, group_id: str) -> Response:
    http.engine().affinity_groups.remove(cluster_id, group_id, actor=http.actor())
    return Response(status=200)


def render(group: AffinityGroup) -> Node:
    node = AFFINITY_GROUP.render(group, href=http.href("clusters", group.cluster_id,
                                                       "affinitygroups", group.id))
    for kind, (tag, element, _) in _ELEMENTS.items():
        node[element] = {tag: [_ref(kind, i) for i in kind.of(group)]}
    return node


def _spec(node: Node, current: AffinityGroup | None) -> GroupSpec:
    """The body as oVirt's mapper reads it: a rule's ``enabled`` false disables it, else its
    ``positive`` sets the polarity; the legacy elements count when no ``vms_rule`` is sent."""
    values = AFFINITY_GROUP.read(node)
    vms_rule = _rule(node.get("vms_rule"), current.vms_rule if current else None)
    if vms_rule is None and ("positive" in node or "enforcing" in node or current is None):
        vms_rule = _legacy(node, current.vms_rule if current else AffinityRule())
    hosts_rule = _rule(node.get("hosts_rule"), current.hosts_rule if current else None)
    members = tuple((kind, tuple(_member_id(kind, item) for item in _items(node, kind)))
                    for kind in Member if _ELEMENTS[kind][1] in node)
    return GroupSpec(name=values.get("name"), description=values.get("description"),
                     priority=_priority(values.get("priority")), vms_rule=vms_rule,
                     hosts_rule=hosts_rule, members=members)


def _rule(node: Any, current: AffinityRule | None) -> AffinityRule | None:
    if node is None:
        return None
    if not isinstance(node, dict):
        raise InvalidInput("An affinity rule has <enabled>, <positive> and <enforcing>.")
    polarity = current.polarity if current else AffinityPolarity.DISABLED
    if "enabled" in node and not http.flag(node, "enabled", True):
        polarity = AffinityPolarity.DISABLED
    elif "positive" in node:
        polarity = _polarity(http.flag(node, "positive", False))
    enforcing = http.flag(node, "enforcing", current.enforcing if current else False)
    return AffinityRule(polarity=polarity, enforcing=enforcing)


def _legacy(node: Node, current: AffinityRule) -> AffinityRule:
    polarity = (_polarity(http.flag(node, "positive", False)) if "positive" in node
                else current.polarity)
    return AffinityRule(polarity=polarity,
                        enforcing=http.flag(node, "enforcing", current.enforcing))


def _polarity(positive: bool) -> AffinityPolarity:
    return AffinityPolarity.POSITIVE if positive else AffinityPolarity.NEGATIVE


def _priority(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"<priority> is a number, not '{value[:20]}'.") from None


def _items(node: Node, kind: Member) -> list[dict[str, str]]:
    tag, element, _ = _ELEMENTS[kind]
    found = node.get(element) or {}
    items = found.get(tag, []) if isinstance(found, dict) else []
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"<{element}> lists <{tag}> elements with an id or a name.")
    return items


def _member_id(kind: Member, reference: dict[str, Any]) -> str:
    """The id of a member the body names, by id or (VMs, hosts, labels) by name."""
    finders: dict[Member, Callable[[], Any]] = {
        Member.VM: listing.VisibleVms, Member.HOST: lambda: http.engine().hosts,
        Member.VM_LABEL: lambda: http.engine().affinity_labels,
        Member.HOST_LABEL: lambda: http.engine().affinity_labels}
    if reference.get("id"):
        return str(reference["id"])
    ref = {"name": str(reference.get("name") or "")}
    return str(listing.resolve(finders[kind](), ref, noun=kind.noun).id)


def _member_type(kind: Member) -> Type:
    tag = _ELEMENTS[kind][0]
    return Type(tag=tag, plural=kind.value, fields=(), list_tag=f"{tag}s",
                description=f"The {kind.noun}s of an affinity group")


def _ref(kind: Member, member_id: str) -> Node:
    return {"id": member_id, "href": http.href(_ELEMENTS[kind][2], member_id)}
