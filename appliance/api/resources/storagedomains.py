"""``/storagedomains``: where disks live, with their space (used, free, promised to thin
disks); data centers show them as attached (datacenters.py)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.representation import Node
from appliance.api.resources import disks
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.model import Disk, StorageDomain
from appliance.errors import NotFound

STORAGE_DOMAIN = Type(
    tag="storage_domain", plural="storagedomains", description="A storage domain",
    links=("disks", "diskprofiles", "permissions"),
    fields=(Field("name", get=lambda s: s["domain"].name),
            Field("description", get=lambda s: s["domain"].description),
            Field("type", get=lambda s: s["domain"].type.value),
            Field("status", get=lambda s: s.get("status")),
            Field("external_status", get=lambda s: "ok"),
            Field("master", Kind.BOOLEAN, get=lambda s: True),
            Field("available", Kind.INTEGER, get=lambda s: s["usage"].free),
            Field("used", Kind.INTEGER, get=lambda s: s["usage"].used),
            Field("committed", Kind.INTEGER, get=lambda s: s["usage"].committed),
            Field("storage/type", get=lambda s: "localfs"),
            Field("storage/path", get=lambda s: s["domain"].path),
            Field("storage_format", get=lambda s: "v5"),
            Field("data_centers/data_center", Kind.REF, ref="datacenters",
                  get=lambda s: s["domain"].data_center_id),
            Field("data_center", Kind.REF, ref="datacenters",
                  get=lambda s: s["domain"].data_center_id if "status" in s else None)))

SEARCHABLE: terms.Terms = {
    **terms.basic("status", "type"),
    "datacenter": lambda d: terms.data_center_name(d.data_center_id),
}


def install(routes: Routes) -> None:
    routes.add("/storagedomains", Operation.LIST, tag="storage_domain",
               summary="List storage domains")(list_domains)
    routes.add("/storagedomains/<domain_id>", Operation.GET, tag="storage_domain",
               summary="Get a storage domain")(get_domain)
    base = "/storagedomains/<domain_id>/disks"
    routes.add(base, Operation.LIST, tag="disk",
               summary="The disks on a storage domain")(list_domain_disks)
    routes.add(f"{base}/<disk_id>", Operation.GET, tag="disk",
               summary="A disk on a storage domain")(get_domain_disk)
    routes.add(f"{base}/<disk_id>", Operation.REMOVE, tag="disk",
               summary="Remove a disk on a storage domain")(remove_domain_disk)


def render_domain(domain: StorageDomain, *, attached: bool = False) -> Node:
    usage = http.engine().storage_domains.usage(domain)
    facts: dict[str, Any] = {"domain": domain, "usage": usage}
    href = None
    if attached:
        facts["status"] = domain.status.value
        href = http.href("datacenters", domain.data_center_id or "", "storagedomains",
                         domain.id)
    node = STORAGE_DOMAIN.render(facts, href=href)
    node["id"] = domain.id
    if not attached:
        node["href"] = http.href("storagedomains", domain.id)
        node["link"] = [{"href": f"{node['href']}/{rel}", "rel": rel}
                        for rel in STORAGE_DOMAIN.links]
    return node


def list_domains() -> Response:
    domains = http.engine().storage_domains.list()
    return listing.list_response(STORAGE_DOMAIN, domains, render=render_domain,
                                 searchable=SEARCHABLE)


def get_domain(domain_id: str) -> Response:
    domain = http.engine().storage_domains.get(domain_id)
    return http.respond(STORAGE_DOMAIN.tag, render_domain(domain))


def list_domain_disks(domain_id: str) -> Response:
    engine = http.engine()
    domain = engine.storage_domains.get(domain_id)
    found = [d for d in engine.disks.list(actor=http.actor())
             if d.storage_domain_id == domain.id]
    return disks.respond_list(found, base=http.href("storagedomains", domain.id, "disks"))


def get_domain_disk(domain_id: str, disk_id: str) -> Response:
    disk = _domain_disk(domain_id, disk_id)
    return http.respond(disks.DISK.tag, disks.render(
        disk, sizes=True, href=http.href("storagedomains", domain_id, "disks", disk.id)))


def remove_domain_disk(domain_id: str, disk_id: str) -> Response:
    http.engine().disks.remove(_domain_disk(domain_id, disk_id).id, actor=http.actor())
    return Response(status=200)


def _domain_disk(domain_id: str, disk_id: str) -> Disk:
    engine = http.engine()
    domain = engine.storage_domains.get(domain_id)
    disk = engine.disks.get(disk_id, actor=http.actor())
    if disk.storage_domain_id != domain.id:
        raise NotFound(f"Storage domain '{domain.name}' has no disk with id '{disk_id[:60]}'.")
    return disk
