"""``/datacenters``: added, changed and removed as oVirt allows (removal refused while
clusters or storage are in one), and the storage domains attached to each (activate,
deactivate). A data center's clusters, networks and quotas: clusters.py, networks.py,
quotas.py."""

from __future__ import annotations

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.resources.storagedomains import STORAGE_DOMAIN, render_domain
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.datacenters import DataCenterSpec
from appliance.engine.enums import QuotaMode
from appliance.engine.model import DataCenter
from appliance.errors import InvalidInput

VERSION = (Field("version/major", Kind.INTEGER, get=lambda o: 4),
           Field("version/minor", Kind.INTEGER, get=lambda o: 7))


def _status(datacenter: DataCenter) -> str:
    """oVirt's: a data center without storage is uninitialized."""
    domains = http.engine().datacenters.list_storage_domains(datacenter.id)
    return "up" if domains else "uninitialized"


DATACENTER = Type(
    tag="data_center", plural="datacenters", description="A data center",
    links=("clusters", "storagedomains", "networks", "quotas", "permissions"),
    accepted=frozenset({"storage_format", "version", "supported_versions", "mac_pool",
                        "status"}),
    fields=(Field("name", get=lambda d: d.name, writable=True),
            Field("description", get=lambda d: d.description, writable=True),
            Field("comment", get=lambda d: d.comment, writable=True),
            Field("local", Kind.BOOLEAN, get=lambda d: d.local, writable=True),
            Field("quota_mode", get=lambda d: d.quota_mode.value, writable=True,
                  values=tuple(QuotaMode)),
            Field("status", get=_status),
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
    routes.add("/datacenters", Operation.ADD, tag="data_center",
               summary="Add a data center (without storage until a domain is attached)")(
        add_datacenter)
    routes.add("/datacenters/<dc_id>", Operation.UPDATE, tag="data_center",
               summary="Change a data center's name, description or quota mode")(
        update_datacenter)
    routes.add("/datacenters/<dc_id>", Operation.REMOVE, tag="data_center",
               summary="Remove a data center without clusters or storage")(remove_datacenter)
    base = "/datacenters/<dc_id>/storagedomains"
    routes.add(base, Operation.LIST, tag="storage_domain",
               summary="Storage domains attached to a data center")(list_attached)
    routes.add(f"{base}/<domain_id>", Operation.GET, tag="storage_domain",
               summary="A storage domain as attached to a data center")(get_attached)
    routes.add(f"{base}/<domain_id>/activate", Operation.ACTION, tag="action",
               summary="Activate a storage domain")(activate_domain)
    routes.add(f"{base}/<domain_id>/deactivate", Operation.ACTION, tag="action",
               summary="Put a storage domain into maintenance")(deactivate_domain)


def _spec() -> DataCenterSpec:
    values = http.read(DATACENTER)
    mode = values.get("quota_mode")
    return DataCenterSpec(name=values.get("name"), description=values.get("description"),
                          comment=values.get("comment"), local=values.get("local"),
                          quota_mode=QuotaMode(mode) if mode else None)


def add_datacenter() -> Response:
    spec = _spec()
    if not spec.name:
        raise InvalidInput("A new data center needs a <name>.")
    made = http.engine().datacenters.add(spec, actor=http.actor())
    return http.respond_object(DATACENTER, made, created=True)


def update_datacenter(dc_id: str) -> Response:
    updated = http.engine().datacenters.update(dc_id, _spec(), actor=http.actor())
    return http.respond_object(DATACENTER, updated)


def remove_datacenter(dc_id: str) -> Response:
    http.engine().datacenters.remove(dc_id, actor=http.actor())
    return Response(status=200)


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
