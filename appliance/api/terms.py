"""Search terms that name another object (``cluster=Default``, ``Storage.name=ram``,
``vm_names=web1``): by that object's name, looked up once per request through the engine's
read services. The collections' own term tables (in ``resources/``) are made of these and of
their objects' fields.

``tag_names`` answers the tags of VMs and hosts (the tags service keeps them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import g

from appliance.api import http
from appliance.api.search import Getter

T = TypeVar("T")
Terms = dict[str, Getter]
NO_NAMES: tuple[str, ...] = ()


def _memo(key: str, make: Callable[[], T]) -> T:
    """One lookup per request: a search over hundreds of objects names few others."""
    cache: dict[str, Any] = g.setdefault("search_terms", {})
    if key not in cache:
        cache[key] = make()
    found: T = cache[key]
    return found


def _names(key: str, objects: Callable[[], list[Any]]) -> dict[str, str]:
    return _memo(key, lambda: {o.id: o.name for o in objects()})


def cluster_name(cluster_id: str | None) -> str:
    return _names("clusters", lambda: http.engine().clusters.list()).get(cluster_id or "", "")


def data_center_name(data_center_id: str | None) -> str:
    return _names("datacenters", lambda: http.engine().datacenters.list()).get(
        data_center_id or "", "")


def cluster_data_center_name(cluster_id: str | None) -> str:
    """The name of the data center a cluster belongs to."""
    centers = _memo("cluster_centers", lambda: {
        c.id: c.data_center_id for c in http.engine().clusters.list()})
    return data_center_name(centers.get(cluster_id or ""))


def all_data_center_names() -> tuple[str, ...]:
    return tuple(_names("datacenters", lambda: http.engine().datacenters.list()).values())


def cluster_names_in(data_center_id: str) -> tuple[str, ...]:
    return tuple(c.name for c in _memo("cluster_list", lambda: http.engine().clusters.list())
                 if c.data_center_id == data_center_id)


def host_name(host_id: str | None) -> str:
    return _names("hosts", lambda: http.engine().hosts.list()).get(host_id or "", "")


def template_name(template_id: str | None) -> str:
    return _names("templates", lambda: http.engine().templates.list()).get(template_id or "", "")


def storage_domain_name(domain_id: str | None) -> str:
    return _names("domains", lambda: http.engine().storage_domains.list()).get(
        domain_id or "", "")


def storage_domain_names_in(data_center_id: str) -> tuple[str, ...]:
    return tuple(d.name for d in _memo("domain_list",
                                       lambda: http.engine().storage_domains.list())
                 if d.data_center_id == data_center_id)


def vm_name(vm_id: str | None) -> str:
    """A VM the request's user may see, by name ("" for a removed or hidden one)."""
    return _names("vms", lambda: http.engine().vms.list(actor=http.actor())).get(vm_id or "", "")


def vm_names_of_disk(disk_id: str) -> tuple[str, ...]:
    """The VMs (visible to the user) a disk is attached to."""
    def by_disk() -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for attachment in http.engine().vms.list_attachments(actor=http.actor()):
            found[attachment.disk_id] = (*found.get(attachment.disk_id, ()),
                                         vm_name(attachment.vm_id))
        return found

    return _memo("disk_vms", by_disk).get(disk_id, NO_NAMES)


def vm_names_of_template(template_id: str) -> tuple[str, ...]:
    """The names of the VMs made from a template (templates' ``vm.name`` term)."""
    def by_template() -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        for vm in http.engine().vms.list(actor=http.actor()):
            found[vm.template_id] = (*found.get(vm.template_id, ()), vm.name)
        return found

    return _memo("template_vms", by_template).get(template_id, NO_NAMES)


def template_data_center_names(template_id: str) -> tuple[str, ...]:
    """The data centers of the storage domains a template's disks are on."""
    engine = http.engine()
    centers = _memo("domain_centers", lambda: {
        d.id: d.data_center_id for d in engine.storage_domains.list()})
    names = []
    for attachment in engine.templates.list_disk_attachments(template_id):
        disk = engine.disks.get(attachment.disk_id, actor=http.actor())
        names.append(data_center_name(centers.get(disk.storage_domain_id)))
    return tuple(dict.fromkeys(n for n in names if n))


def tag_names(object_id: str) -> tuple[str, ...]:
    """The tags a VM or a host carries, by name, with the tags above them (``tag=prod`` finds
    what carries a tag below ``prod`` too, as oVirt's search does)."""
    return _memo("tag_carriers", lambda: http.engine().tags.carriers()).get(object_id,
                                                                              NO_NAMES)


def basic(*extra: str) -> Terms:
    """``id``, ``name``, ``description`` and the named plain attributes of the objects."""
    terms: Terms = {"id": lambda o: o.id, "name": lambda o: o.name,
                    "description": lambda o: getattr(o, "description", "")}
    for name in extra:
        terms[name] = _attribute(name)
    return terms


def _attribute(name: str) -> Getter:
    return lambda o: getattr(o, name, None)  # a StrEnum compares by its value: status=up
