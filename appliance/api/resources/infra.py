"""The lab's fabric: ``/datacenters`` (with their attached storage domains), ``/clusters``,
``/hosts`` (deactivate/activate), ``/storagedomains``, ``/networks`` and ``/vnicprofiles``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from flask import Response

from appliance.api import http, listing
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.enums import HostStatus, StorageDomainStatus
from appliance.engine.model import StorageDomain

_VERSION = (Field("version/major", Kind.INTEGER, get=lambda o: 4),
            Field("version/minor", Kind.INTEGER, get=lambda o: 7))

DATACENTER = Type(
    tag="data_center", plural="datacenters", description="A data center",
    links=("clusters", "storagedomains", "networks", "permissions"),
    fields=(Field("name", get=lambda d: d.name), Field("description", get=lambda d: d.description),
            Field("local", Kind.BOOLEAN, get=lambda d: d.local),
            Field("status", get=lambda d: "up"),
            Field("storage_format", get=lambda d: "v5"), *_VERSION))

CLUSTER = Type(
    tag="cluster", plural="clusters", description="A cluster of hosts",
    links=("networks", "permissions"),
    fields=(Field("name", get=lambda c: c.name), Field("description", get=lambda c: c.description),
            Field("data_center", Kind.REF, get=lambda c: c.data_center_id, ref="datacenters"),
            Field("cpu/architecture", get=lambda c: "x86_64"),
            Field("cpu/type", get=lambda c: "x86_64"),
            Field("scheduling_policy/name", get=lambda c: c.scheduling_policy), *_VERSION))

HOST = Type(
    tag="host", plural="hosts", description="A hypervisor host (libvirt + QEMU)",
    links=("statistics", "permissions"),
    fields=(Field("name", get=lambda h: h.name), Field("description", get=lambda h: h.description),
            Field("address", get=lambda h: h.address),
            Field("status", get=lambda h: h.status.value, values=tuple(HostStatus)),
            Field("cluster", Kind.REF, get=lambda h: h.cluster_id, ref="clusters"),
            Field("memory", Kind.INTEGER, get=lambda h: h.memory),
            Field("max_scheduling_memory", Kind.INTEGER, get=lambda h: h.memory),
            Field("cpu/name", get=lambda h: h.cpu_model or None),
            Field("cpu/topology/sockets", Kind.INTEGER, get=lambda h: 1),
            Field("cpu/topology/cores", Kind.INTEGER, get=lambda h: h.cpus),
            Field("cpu/topology/threads", Kind.INTEGER, get=lambda h: 1),
            Field("type", get=lambda h: "rhel"),
            Field("hardware_information/product_name", get=lambda h: h.virt_type.upper()),
            Field("external_status", get=lambda h: "ok")))

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

NETWORK = Type(
    tag="network", plural="networks", description="A logical network",
    links=("vnicprofiles", "permissions"),
    fields=(Field("name", get=lambda n: n.name), Field("description", get=lambda n: n.description),
            Field("data_center", Kind.REF, get=lambda n: n.data_center_id, ref="datacenters"),
            Field("mtu", Kind.INTEGER, get=lambda n: n.mtu),
            Field("usages/usage", get=lambda n: "vm" if n.vm else None)))

VNIC_PROFILE = Type(
    tag="vnic_profile", plural="vnicprofiles", description="How a NIC joins a network",
    links=("permissions",),
    fields=(Field("name", get=lambda p: p.name), Field("description", get=lambda p: p.description),
            Field("network", Kind.REF, get=lambda p: p.network_id, ref="networks"),
            Field("pass_through/mode", get=lambda p: "disabled"),
            Field("port_mirroring", Kind.BOOLEAN, get=lambda p: False)))


def install(routes: Routes) -> None:
    _simple(routes, DATACENTER, lambda: http.engine().datacenters)
    _simple(routes, CLUSTER, lambda: http.engine().clusters)
    _simple(routes, HOST, lambda: http.engine().hosts)
    _simple(routes, NETWORK, lambda: http.engine().networks)
    _simple(routes, VNIC_PROFILE, lambda: http.engine().vnic_profiles)
    routes.add("/hosts/<host_id>/deactivate", Operation.ACTION, tag="action",
               summary="Put a host into maintenance")(deactivate_host)
    routes.add("/hosts/<host_id>/activate", Operation.ACTION, tag="action",
               summary="Activate a host")(activate_host)
    routes.add("/storagedomains", Operation.LIST, tag="storage_domain",
               summary="List storage domains")(list_domains)
    routes.add("/storagedomains/<domain_id>", Operation.GET, tag="storage_domain",
               summary="Get a storage domain")(get_domain)
    base = "/datacenters/<dc_id>/storagedomains"
    routes.add(base, Operation.LIST, tag="storage_domain",
               summary="Storage domains attached to a data center")(list_attached)
    routes.add(f"{base}/<domain_id>", Operation.GET, tag="storage_domain",
               summary="A storage domain as attached to a data center")(get_attached)
    routes.add(f"{base}/<domain_id>/activate", Operation.ACTION, tag="action",
               summary="Activate a storage domain")(activate_domain)
    routes.add(f"{base}/<domain_id>/deactivate", Operation.ACTION, tag="action",
               summary="Put a storage domain into maintenance")(deactivate_domain)


class Readable(Protocol):
    """An engine read service: every object, or one by id."""

    def list(self) -> list[Any]: ...
    def get(self, object_id: str, /) -> Any: ...


def _simple(routes: Routes, type_: Type, service: Callable[[], Readable]) -> None:
    """List and get, for the types that are plain rows."""
    def list_view() -> Response:
        return listing.list_response(type_, service().list())

    def get_view(object_id: str) -> Response:
        return http.respond_object(type_, service().get(object_id))

    routes.add(f"/{type_.plural}", Operation.LIST, tag=type_.tag,
               summary=f"List {type_.description.lower()}s")(list_view)
    routes.add(f"/{type_.plural}/<object_id>", Operation.GET, tag=type_.tag,
               summary=f"Get {type_.description.lower()}")(get_view)


def deactivate_host(host_id: str) -> Response:
    """Maintenance: the host's VMs are migrated (or stopped, by policy) in a job."""
    http.read_action()
    job = http.engine().host_maintenance.deactivate(host_id, actor=http.actor(),
                                                    correlation_id=http.correlation_id())
    return http.respond_action(job)


def activate_host(host_id: str) -> Response:
    http.read_action()
    http.engine().host_maintenance.activate(host_id, actor=http.actor())
    return http.respond_action()


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
    return listing.list_response(STORAGE_DOMAIN, domains, render=render_domain)


def get_domain(domain_id: str) -> Response:
    domain = http.engine().storage_domains.get(domain_id)
    return http.respond(STORAGE_DOMAIN.tag, render_domain(domain))


def list_attached(dc_id: str) -> Response:
    domains = http.engine().datacenters.list_storage_domains(dc_id)
    return listing.list_response(STORAGE_DOMAIN, domains,
                                 render=lambda d: render_domain(d, attached=True))


def get_attached(dc_id: str, domain_id: str) -> Response:
    return http.respond(STORAGE_DOMAIN.tag, render_domain(_attached(dc_id, domain_id),
                                                          attached=True))


def activate_domain(dc_id: str, domain_id: str) -> Response:
    http.read_action()
    domain = _attached(dc_id, domain_id)
    http.engine().maintenance.activate_storage_domain(domain.id, actor=http.actor())
    return http.respond_action()


def deactivate_domain(dc_id: str, domain_id: str) -> Response:
    http.read_action()
    domain = _attached(dc_id, domain_id)
    http.engine().maintenance.deactivate_storage_domain(domain.id, actor=http.actor())
    return http.respond_action()


def _attached(dc_id: str, domain_id: str) -> StorageDomain:
    return http.engine().datacenters.get_storage_domain(dc_id, domain_id)


__all__ = ["StorageDomainStatus"]
