"""``/storagedomains``: where disks live, with their space (used, free, promised to thin
disks); data centers show them as attached (datacenters.py)."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.model import StorageDomain

STORAGE_DOMAIN = Type(
    tag="storage_domain", plural="storagedomains", description="A storage domain",
    links=("disks", "permissions"),
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
