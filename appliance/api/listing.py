"""Collections as clients query them: ``search``, ``case_sensitive``, ``max`` and ``follow``
(embedding linked objects, e.g. ``follow=disk_attachments.disk,nics``); references in
request bodies resolved by id or by name; list and get of the types that are plain rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from flask import Response, request

from appliance.api import http, search
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Type
from appliance.engine.model import Vm
from appliance.errors import InvalidInput, NotFound

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Follower = Callable[[Any, Node], None]


def list_response(type_: Type, objects: list[T], *,
                  searchable: Mapping[str, search.Getter] | None = None,
                  render: Callable[[T], Node] | None = None,
                  follow: Mapping[str, Follower] | None = None) -> Response:
    text = request.args.get("search")
    limit = http.query_int("max")
    if text:
        fields = searchable if searchable is not None else default_searchable(objects)
        query = search.parse(text)
        objects = query.apply(objects, fields,
                              case_sensitive=http.query_flag("case_sensitive", True),
                              page_size=limit if limit and limit > 0 else search.PAGE_SIZE)
    if limit is not None and limit >= 0:
        objects = objects[:limit]
    followers = _followers(follow or {})
    detail = http.query_flag("all_content")
    if render is None and not followers and not http.wants_json():
        elements = [type_.xml(o, detail=detail) for o in objects]
        return http.respond_xml_elements(type_, elements)
    draw = render or (lambda o: type_.render(o, detail=detail))
    nodes = []
    for obj in objects:
        node = draw(obj)
        for follower in followers:
            follower(obj, node)
        nodes.append(node)
    return http.respond_list(type_, nodes)


def object_response(type_: Type, obj: Any, *, node: Node | None = None,
                    follow: Mapping[str, Follower] | None = None) -> Response:
    node = node if node is not None else type_.render(obj)
    for follower in _followers(follow or {}):
        follower(obj, node)
    return http.respond(type_.tag, node)


def default_searchable(objects: list[Any]) -> dict[str, search.Getter]:
    fields: dict[str, search.Getter] = {"id": lambda o: o.id}
    sample = objects[0] if objects else None
    for name in ("name", "description", "status", "type"):
        if sample is None or hasattr(sample, name):
            fields[name] = _attribute(name)
    return fields


def _attribute(name: str) -> search.Getter:
    return lambda o: getattr(o, name, None)


def _followers(follow: Mapping[str, Follower]) -> list[Follower]:
    wanted = [w.strip() for w in request.args.get("follow", "").split(",") if w.strip()]
    found = []
    for item in wanted:
        if item not in follow:
            known = ", ".join(sorted(follow)) or "nothing"
            raise InvalidInput(f"Cannot follow '{item[:60]}' here; this resource can follow "
                               f"{known}.")
        found.append(follow[item])
    return found


class Finder(Protocol[T_co]):
    """What the engine's read services offer for references: by id and by name."""

    def find(self, object_id: str, /) -> T_co | None: ...
    def find_by_name(self, name: str, /) -> T_co | None: ...


class VisibleVms:
    """The VMs the request's actor may see, as a ``Finder``."""

    def __init__(self) -> None:
        self._vms, self._actor = http.engine().vms, http.actor()

    def find(self, object_id: str, /) -> Vm | None:
        return self._vms.find(object_id, actor=self._actor)

    def find_by_name(self, name: str, /) -> Vm | None:
        return self._vms.find_by_name(name, actor=self._actor)


def resolve(finder: Finder[T], reference: Mapping[str, str] | None, *, noun: str,
            default: Callable[[], T] | None = None) -> T:
    """The object a body reference names: ``<cluster id="..."/>`` or
    ``<cluster><name>Default</name></cluster>``."""
    if not reference:
        if default is None:
            raise InvalidInput(f"The request must name a {noun} (by id or name).")
        return default()
    if reference.get("id"):
        found = finder.find(reference["id"])
        if found is None:
            raise NotFound(f"There is no {noun} with id '{reference['id'][:60]}'.")
        return found
    by_name = finder.find_by_name(reference.get("name", ""))
    if by_name is None:
        raise NotFound(f"There is no {noun} named '{reference.get('name', '')[:60]}'.")
    return by_name


class Readable(Protocol):
    """An engine read service: every object, or one by id."""

    def list(self) -> list[Any]: ...
    def get(self, object_id: str, /) -> Any: ...


def add_list_and_get(routes: Routes, type_: Type, service: Callable[[], Readable], *,
                     searchable: Mapping[str, search.Getter] | None = None) -> None:
    """``GET /{plural}`` and ``GET /{plural}/{id}``, for the types that are plain rows."""
    def list_view() -> Response:
        return list_response(type_, service().list(), searchable=searchable)

    def get_view(object_id: str) -> Response:
        return http.respond_object(type_, service().get(object_id))

    routes.add(f"/{type_.plural}", Operation.LIST, tag=type_.tag,
               summary=f"List {type_.description.lower()}s")(list_view)
    routes.add(f"/{type_.plural}/<object_id>", Operation.GET, tag=type_.tag,
               summary=f"Get {type_.description.lower()}")(get_view)


def add_empty_vm_list(routes: Routes, rel: str, type_: Type, *, summary: str,
                      why: str) -> None:
    """``GET /vms/{id}/{rel}`` (an empty list: VirtStick's VMs have none of these, for the
    reason ``why``) and ``GET /vms/{id}/{rel}/{item}``, which finds nothing. Clients follow
    these links after every change; oVirt answers an empty list where there is nothing."""
    def list_view(vm_id: str) -> Response:
        http.engine().vms.get(vm_id, actor=http.actor())  # someone else's VM is not found
        return http.respond_list(type_, [])

    def get_view(vm_id: str, item_id: str) -> Response:
        vm = http.engine().vms.get(vm_id, actor=http.actor())
        raise NotFound(f"VM '{vm.name}' has no {type_.tag.replace('_', ' ')} with id "
                       f"'{item_id[:60]}': {why}.")

    list_view.__name__, get_view.__name__ = f"list_vm_{rel}", f"get_vm_{rel}"
    routes.add(f"/vms/<vm_id>/{rel}", Operation.LIST, tag=type_.tag,
               summary=summary)(list_view)
    routes.add(f"/vms/<vm_id>/{rel}/<item_id>", Operation.GET, tag=type_.tag,
               summary=f"One of {summary[0].lower()}{summary[1:]}")(get_view)
