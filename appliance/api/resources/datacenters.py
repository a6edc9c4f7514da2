"""``/datacenters``, and the storage domains attached to each (activate, deactivate)."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.resources.storagedomains import STORAGE_DOMAIN, render_domain
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type

VERSION = (Field("version/major", Kind.INTEGER, get=lambda o: 4),
           Field("version/minor", Kind.INTEGER, get=lambda o: 7))

DATACENTER = Type(
    tag="data_center", plural="datacenters", description="A data center",
    links=("clusters", "storagedomains", "networks", "permissions"),
    fields=(Field("name", get=lambda d: d.name), Field("description", get=lambda d: d.description),
            Field("local", Kind.BOOLEAN, get=lambda d: d.local),
            Field("status", get=lambda d: "up"),
            Field("storage_format", get=lambda d: "v5"), *VERSION))

SEARCHABLE: terms.Terms = {
    **terms.basic(),
    "status": lambda d: "up",
    "clusters.name": lambda d: terms.cluster_names_in(d.id),
    "storage": lambda d: terms.storage_domain_names_in(d.id),
    "storage.name": lambda d: terms.storage_domain_names_in(d.id),
}


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, DATACENTER, lambda: http.engine().datacenters,
                             searchable=SEARCHABLE)
    base = "/datacenters/<dc_id>/storagedomains"
    routes.add(base, Operation.LIST, tag="storage_domain",
               summary="Storage domains attached to a data center")(list_attached)
    routes.add(f"{base}/<domain_id>", Operation.GET, tag="storage_domain",
               summary="A storage domain as attached to a data center")(get_attached)
    routes.add(f"{base}/<domain_id>/activate", Operation.ACTION, tag="action",
               summary="Activate a storage domain")(activate_domain)
    routes.add(f"{base}/<domain_id>/deactivate", Operation.ACTION, tag="action",
               summary="Put a storage domain into maintenance")(deactivate_domain)


def list_attached(dc_id: str) -> Response:
    domains = http.engine().datacenters.list_storage_domains(dc_id)
    return listing.list_response(STORAGE_DOMAIN, domains,
                                 render=lambda d: render_domain(d, attached=True))


def get_attached(dc_id: str, domain_id: str) -> Response:
    domain = http.engine().datacenters.get_storage_domain(dc_id, domain_id)
    return http.respond(STORAGE_DOMAIN.tag, render_domain(domain, attached=True))


def activate_domain(dc_id: str, domain_id: str) -> Response:
    http.read_action()
    domain = http.engine().datacenters.get_storage_domain(dc_id, domain_id)
    http.engine().maintenance.activate_storage_domain(domain.id, actor=http.actor())
    return http.respond_action()


def deactivate_domain(dc_id: str, domain_id: str) -> Response:
    http.read_action()
    domain = http.engine().datacenters.get_storage_domain(dc_id, domain_id)
    http.engine().maintenance.deactivate_storage_domain(domain.id, actor=http.actor())
    return http.respond_action()
