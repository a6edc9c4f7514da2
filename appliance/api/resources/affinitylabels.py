"""``/affinitylabels``: labels VMs and hosts carry (affinity groups hold them), with their
``vms`` and ``hosts``, and ``/hosts/{id}/affinitylabels``: the labels of one host. The VM's
room (vms/affinitylabels.py) has the labels of one VM."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.affinity_labels import Carrier
from appliance.engine.model import AffinityLabel
from appliance.errors import InvalidInput, NotFound

AFFINITY_LABEL = Type(
    tag="affinity_label", plural="affinitylabels", links=("vms", "hosts"),
    description="A label VMs and hosts carry",
    accepted=frozenset({"comment", "description", "has_implicit_affinity_group", "hosts",
                        "read_only", "vms"}),
    fields=(
        Field("name", get=lambda label: label.name, writable=True),
        Field("read_only", Kind.BOOLEAN, get=lambda label: label.read_only),
        Field("has_implicit_affinity_group", Kind.BOOLEAN, get=lambda label: False),
    ),
)
_CARRIERS = {Carrier.VM: ("vm", "vms"), Carrier.HOST: ("host", "hosts")}


def install(routes: Routes) -> None:
    routes.add("/affinitylabels", Operation.LIST, tag="affinity_label",
               summary="List affinity labels")(list_labels)
    routes.add("/affinitylabels", Operation.ADD, tag="affinity_label",
               summary="Add an affinity label")(add_label)
    one = "/affinitylabels/<label_id>"
    routes.add(one, Operation.GET, tag="affinity_label",
               summary="Get an affinity label")(get_label)
    routes.add(one, Operation.UPDATE, tag="affinity_label",
               summary="Rename an affinity label")(update_label)
    routes.add(one, Operation.REMOVE, tag="affinity_label",
               summary="Remove an affinity label (on no VM or host)")(remove_label)
    for carrier in Carrier:
        _install_carriers(routes, one, carrier)
    install_labels_of(routes, "hosts", Carrier.HOST)


def _install_carriers(routes: Routes, base: str, carrier: Carrier) -> None:
    tag, plural = _CARRIERS[carrier]

    def list_view(label_id: str) -> Response:
        label = http.engine().affinity_labels.get(label_id)
        return http.respond_list(_carrier_type(carrier), [_ref(plural, i)
                                                          for i in carrier.of(label)])

    def add_view(label_id: str) -> Response:
        object_id = _carrier_id(carrier, http.read_node(tag))
        http.engine().affinity_labels.attach(label_id, carrier, object_id, actor=http.actor())
        node = _ref(plural, object_id)
        return http.respond(tag, node, status=201, location=node["href"])

    def get_view(label_id: str, object_id: str) -> Response:
        label = http.engine().affinity_labels.get(label_id)
        if object_id not in carrier.of(label):
            raise NotFound(f"Affinity label {label.name} is not on the {tag} with id "
                           f"'{object_id[:60]}'.")
        return http.respond(tag, _ref(plural, object_id))

    def remove_view(label_id: str, object_id: str) -> Response:
        http.engine().affinity_labels.detach(label_id, carrier, object_id, actor=http.actor())
        return Response(status=200)

    for view, verb in ((list_view, "list"), (add_view, "add"), (get_view, "get"),
                       (remove_view, "remove")):
        view.__name__ = f"{verb}_affinity_label_{plural}"
    routes.add(f"{base}/{plural}", Operation.LIST, tag=tag,
               summary=f"The {plural} with an affinity label")(list_view)
    routes.add(f"{base}/{plural}", Operation.ADD, tag=tag,
               summary=f"Put an affinity label on a {tag}")(add_view)
    routes.add(f"{base}/{plural}/<object_id>", Operation.GET, tag=tag,
               summary=f"One {tag} with an affinity label")(get_view)
    routes.add(f"{base}/{plural}/<object_id>", Operation.REMOVE, tag=tag,
               summary=f"Take an affinity label off a {tag}")(remove_view)


def install_labels_of(routes: Routes, plural: str, carrier: Carrier) -> None:
    """``/{plural}/<id>/affinitylabels``: the labels one VM or host carries."""
    tag = _CARRIERS[carrier][0]

    def check(object_id: str) -> str:
        if carrier is Carrier.VM:
            return http.engine().vms.get(object_id, actor=http.actor()).id
        return str(http.engine().hosts.get(object_id).id)

    def list_view(object_id: str) -> Response:
        labels = http.engine().affinity_labels.of(carrier, check(object_id))
        return listing.list_response(AFFINITY_LABEL, labels)

    def add_view(object_id: str) -> Response:
        object_id = check(object_id)
        node = http.read_node(AFFINITY_LABEL.tag)
        label = listing.resolve(http.engine().affinity_labels,
                                {"id": str(node.get("id") or ""),
                                 "name": str(node.get("name") or "")}, noun="affinity label")
        attached = http.engine().affinity_labels.attach(label.id, carrier, object_id,
                                                        actor=http.actor())
        return http.respond_object(AFFINITY_LABEL, attached, created=True)

    def get_view(object_id: str, label_id: str) -> Response:
        return http.respond_object(AFFINITY_LABEL, _carried(carrier, check(object_id),
                                                            label_id))

    def remove_view(object_id: str, label_id: str) -> Response:
        label = _carried(carrier, check(object_id), label_id)
        http.engine().affinity_labels.detach(label.id, carrier, object_id, actor=http.actor())
        return Response(status=200)

    for view, verb in ((list_view, "list"), (add_view, "add"), (get_view, "get"),
                       (remove_view, "remove")):
        view.__name__ = f"{verb}_{tag}_affinity_labels"
    base = f"/{plural}/<object_id>/affinitylabels"
    routes.add(base, Operation.LIST, tag="affinity_label",
               summary=f"The affinity labels of a {tag}")(list_view)
    routes.add(base, Operation.ADD, tag="affinity_label",
               summary=f"Put an affinity label on the {tag}")(add_view)
    routes.add(f"{base}/<label_id>", Operation.GET, tag="affinity_label",
               summary=f"One affinity label of a {tag}")(get_view)
    routes.add(f"{base}/<label_id>", Operation.REMOVE, tag="affinity_label",
               summary=f"Take an affinity label off the {tag}")(remove_view)


def list_labels() -> Response:
    return listing.list_response(AFFINITY_LABEL, http.engine().affinity_labels.list())


def get_label(label_id: str) -> Response:
    return http.respond_object(AFFINITY_LABEL, http.engine().affinity_labels.get(label_id))


def add_label() -> Response:
    """``<affinity_label><name>gpu</name></affinity_label>`` (also with ``<vms>``/``<hosts>``
    to label at once)."""
    node = http.read_node(AFFINITY_LABEL.tag)
    values = AFFINITY_LABEL.read(node)
    engine, actor = http.engine(), http.actor()
    label = engine.affinity_labels.add(values.get("name", ""), actor=actor)
    for carrier, (tag, plural) in _CARRIERS.items():
        for item in _items(node.get(plural), tag):
            label = engine.affinity_labels.attach(label.id, carrier,
                                                  _carrier_id(carrier, item), actor=actor)
    return http.respond_object(AFFINITY_LABEL, label, created=True)


def update_label(label_id: str) -> Response:
    values = http.read(AFFINITY_LABEL)
    label = http.engine().affinity_labels.update(label_id, values.get("name", ""),
                                                 actor=http.actor())
    return http.respond_object(AFFINITY_LABEL, label)


def remove_label(label_id: str) -> Response:
    http.engine().affinity_labels.remove(label_id, actor=http.actor())
    return Response(status=200)


def _carried(carrier: Carrier, object_id: str, label_id: str) -> AffinityLabel:
    for label in http.engine().affinity_labels.of(carrier, object_id):
        if label.id == label_id:
            return label
    raise NotFound(f"The {_CARRIERS[carrier][0]} has no affinity label with id "
                   f"'{label_id[:60]}'.")


def _carrier_id(carrier: Carrier, reference: Node) -> str:
    if reference.get("id"):
        return str(reference["id"])
    named = {"name": str(reference.get("name") or "")}
    if carrier is Carrier.VM:
        return listing.resolve(listing.VisibleVms(), named, noun="VM").id
    return listing.resolve(http.engine().hosts, named, noun="host").id


def _items(node: object, tag: str) -> list[Node]:
    if not node:
        return []
    items = node.get(tag, []) if isinstance(node, dict) else []
    items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(f"<{tag}s> lists <{tag}> elements with an id or a name.")
    return items


def _carrier_type(carrier: Carrier) -> Type:
    tag, plural = _CARRIERS[carrier]
    return Type(tag=tag, plural=plural, fields=(), description=f"The {plural} with a label")


def _ref(plural: str, object_id: str) -> Node:
    return {"id": object_id, "href": http.href(plural, object_id)}
