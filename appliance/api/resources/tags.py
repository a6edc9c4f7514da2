"""``/tags``: tags in a tree under the read-only ``root`` (add, rename, move by ``parent``,
remove with the tags below) and ``/hosts/{id}/tags`` (the tags a host carries). The VM's
room (vms/tags.py) has a VM's tags; the ``tag=`` search term is in terms.py."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.tags import ROOT_TAG_ID, Tag, TagTarget
from appliance.errors import InvalidInput, NotFound

TAG = Type(
    tag="tag", plural="tags", description="A tag",
    accepted=frozenset({"comment", "group", "host", "template", "user", "vm"}),
    fields=(
        Field("name", get=lambda t: t.name, writable=True),
        Field("description", get=lambda t: t.description or None, writable=True),
        Field("parent", Kind.REF, get=lambda t: t.parent_id or None, ref="tags",
              writable=True),
    ),
)
_TARGETS = {TagTarget.VM: ("vm", "vms"), TagTarget.HOST: ("host", "hosts")}


def install(routes: Routes) -> None:
    routes.add("/tags", Operation.LIST, tag="tag", summary="List tags")(list_tags)
    routes.add("/tags", Operation.ADD, tag="tag", summary="Add a tag")(add_tag)
    routes.add("/tags/<tag_id>", Operation.GET, tag="tag", summary="Get a tag")(get_tag)
    routes.add("/tags/<tag_id>", Operation.UPDATE, tag="tag",
               summary="Rename, describe or move a tag")(update_tag)
    routes.add("/tags/<tag_id>", Operation.REMOVE, tag="tag",
               summary="Remove a tag and the tags below it")(remove_tag)
    install_tags_of(routes, TagTarget.HOST)


def install_tags_of(routes: Routes, target: TagTarget) -> None:
    """``/{vms|hosts}/<id>/tags``: list, give (by id or name), get and take away."""
    element, plural = _TARGETS[target]

    def check(object_id: str) -> str:
        if target is TagTarget.VM:
            return http.engine().vms.get(object_id, actor=http.actor()).id
        return str(http.engine().hosts.get(object_id).id)

    def list_view(object_id: str) -> Response:
        object_id = check(object_id)
        found = http.engine().tags.of(target, object_id)
        return listing.list_response(TAG, found, render=lambda t: _render_on(t, target,
                                                                             object_id))

    def add_view(object_id: str) -> Response:
        object_id = check(object_id)
        node = http.read_node(TAG.tag)
        wanted = {"id": str(node.get("id") or ""), "name": str(node.get("name") or "")}
        tag = listing.resolve(http.engine().tags, wanted, noun="tag")
        http.engine().tags.assign(tag.id, target, object_id, actor=http.actor())
        rendered = _render_on(tag, target, object_id)
        return http.respond(TAG.tag, rendered, status=201, location=rendered["href"])

    def get_view(object_id: str, tag_id: str) -> Response:
        object_id = check(object_id)
        return http.respond(TAG.tag, _render_on(_carried(target, object_id, tag_id), target,
                                                object_id))

    def remove_view(object_id: str, tag_id: str) -> Response:
        object_id = check(object_id)
        http.engine().tags.unassign(tag_id, target, object_id, actor=http.actor())
        return Response(status=200)

    for view, verb in ((list_view, "list"), (add_view, "add"), (get_view, "get"),
                       (remove_view, "remove")):
        view.__name__ = f"{verb}_{element}_tags"
    base = f"/{plural}/<object_id>/tags"
    routes.add(base, Operation.LIST, tag="tag", summary=f"A {element}'s tags")(list_view)
    routes.add(base, Operation.ADD, tag="tag", summary=f"Tag a {element}")(add_view)
    routes.add(f"{base}/<tag_id>", Operation.GET, tag="tag",
               summary=f"One of a {element}'s tags")(get_view)
    routes.add(f"{base}/<tag_id>", Operation.REMOVE, tag="tag",
               summary=f"Take a tag from a {element}")(remove_view)


def list_tags() -> Response:
    return listing.list_response(TAG, http.engine().tags.list())


def get_tag(tag_id: str) -> Response:
    return http.respond_object(TAG, http.engine().tags.get(tag_id))


def add_tag() -> Response:
    """``<tag><name>web</name><description>…</description><parent><name>prod</name>
    </parent></tag>`` (no parent: under the root)."""
    values = http.read(TAG)
    tag = http.engine().tags.add(values.get("name", ""), actor=http.actor(),
                                 description=values.get("description", ""),
                                 parent_id=_parent(values) or ROOT_TAG_ID)
    return http.respond_object(TAG, tag, created=True)


def update_tag(tag_id: str) -> Response:
    values = http.read(TAG)
    tag = http.engine().tags.update(tag_id, actor=http.actor(), name=values.get("name"),
                                    description=values.get("description"),
                                    parent_id=_parent(values))
    return http.respond_object(TAG, tag)


def remove_tag(tag_id: str) -> Response:
    http.engine().tags.remove(tag_id, actor=http.actor())
    return Response(status=200)


def _parent(values: dict[str, object]) -> str | None:
    reference = values.get("parent")
    if not isinstance(reference, dict):
        return None
    if not (reference.get("id") or reference.get("name")):
        raise InvalidInput("<parent> names a tag by id or <name>.")
    return str(listing.resolve(http.engine().tags, reference, noun="parent tag").id)


def _carried(target: TagTarget, object_id: str, tag_id: str) -> Tag:
    for tag in http.engine().tags.of(target, object_id):
        if tag.id == tag_id:
            return tag
    raise NotFound(f"The {target.value} has no tag with id '{tag_id[:60]}'.")


def _render_on(tag: Tag, target: TagTarget, object_id: str) -> Node:
    element, plural = _TARGETS[target]
    node = TAG.render(tag, href=http.href(plural, object_id, "tags", tag.id))
    node[element] = {"id": object_id, "href": http.href(plural, object_id)}
    return node
