"""``/hosts``: the local host, lab hosts on this machine (``<type>lab</type>``) and hosts
on other machines; maintenance (deactivate, activate), power management (``fence``: start,
stop, restart, status), statistics, and one-time ``/jointokens`` for a machine to join."""

from __future__ import annotations

from functools import cache

from flask import Response

from appliance.api import http, listing, terms
from appliance.api.representation import Node
from appliance.api.resources.statistics import STATISTIC, one, render
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine import power
from appliance.engine.enums import HostKind, HostStatus
from appliance.engine.hosts import HostEdit
from appliance.engine.model import Host
from appliance.engine.monitoring.statistics import host_statistics
from appliance.errors import InvalidInput, NotSupported

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
            Field("external_status", get=lambda h: "ok"),
            Field("comment", get=lambda h: h.comment),
            Field("spm/priority", Kind.INTEGER, get=lambda h: h.spm_priority),
            Field("spm/status", get=lambda h: "spm" if h.kind is HostKind.LOCAL else "none"),
            Field("os/type", get=lambda h: "Linux"),
            Field("os/custom_kernel_cmdline", get=lambda h: h.kernel_cmdline),
            Field("power_management/enabled", Kind.BOOLEAN,
                  get=lambda h: bool(h.power_management) and h.pm_enabled),
            Field("power_management/kdump_detection", Kind.BOOLEAN,
                  get=lambda h: h.kdump_detection),
            Field("power_management/automatic_pm_enabled", Kind.BOOLEAN,
                  get=lambda h: h.automatic_pm),
            Field("update_available", Kind.BOOLEAN, get=lambda h: False)))

# What ovirt_host sends back on an update besides what can change (its whole entity):
# accepted and ignored when it is empty or says what the host already has.
_HOST_ECHOES = frozenset({"ssh", "override_iptables", "root_password", "display",
                          "vgpu_placement", "address"})


@cache
def host_update_type() -> Type:
    """What PUT /hosts/{id} reads (a function for the reason host_add_type is)."""
    return Type(
        tag="host", plural="hosts", description="A host's editable settings",
        accepted=_HOST_ECHOES,
        fields=(Field("name", writable=True), Field("description", writable=True),
                Field("comment", writable=True),
                Field("cluster", Kind.REF, ref="clusters", writable=True),
                Field("spm/priority", Kind.INTEGER, writable=True),
                Field("os/custom_kernel_cmdline", writable=True),
                Field("power_management/enabled", Kind.BOOLEAN, writable=True),
                Field("power_management/kdump_detection", Kind.BOOLEAN, writable=True),
                Field("power_management/automatic_pm_enabled", Kind.BOOLEAN,
                      writable=True)))

SEARCHABLE: terms.Terms = {
    **terms.basic("status", "address"),
    "cluster": lambda h: terms.cluster_name(h.cluster_id),
    "datacenter": lambda h: terms.cluster_data_center_name(h.cluster_id),
    "type": lambda h: "rhel",
    "tag": lambda h: terms.tag_names(h.id),
}


@cache
def host_add_type() -> Type:
    """What POST /hosts reads. Made by a function, not held by the module, so that the
    OpenAPI document describes hosts by HOST (it collects the Types modules hold)."""
    return Type(
        tag="host", plural="hosts", description="A host to add",
        accepted=frozenset({"root_password", "ssh", "port", "comment", "spm"}),
        fields=(Field("name", get=lambda h: h.name, writable=True),
                Field("address", get=lambda h: h.address, writable=True),
                Field("description", get=lambda h: h.description, writable=True),
                Field("type", get=lambda h: h.kind.value, writable=True,
                      values=("rhel", "ovirt_node", "lab")),
                Field("cluster", Kind.REF, get=lambda h: h.cluster_id, ref="clusters",
                      writable=True),
                Field("memory", Kind.INTEGER, get=lambda h: h.memory, writable=True),
                Field("libvirt_uri", get=lambda h: h.libvirt_uri, writable=True),
                Field("power_management/type", writable=True),
                Field("power_management/address", writable=True),
                Field("power_management/username", writable=True)))


JOIN_TOKEN = Type(
    tag="join_token", plural="jointokens",
    description="A one-time token for a host on another machine to join",
    fields=(Field("token", get=lambda t: t),
            Field("join_path", get=lambda t: "/ovirt-engine/services/host-join")))


def install(routes: Routes) -> None:
    listing.add_list_and_get(routes, HOST, lambda: http.engine().hosts, searchable=SEARCHABLE)
    routes.add("/hosts", Operation.ADD, tag="host",
               summary="Add a host (by address, or a lab host on this machine)")(add_host)
    routes.add("/hosts/<host_id>", Operation.UPDATE, tag="host",
               summary="Change a host's name, comment, cluster (in maintenance), SPM "
                       "priority or power management settings")(update_host)
    routes.add("/hosts/<host_id>", Operation.REMOVE, tag="host",
               summary="Remove a host in maintenance")(remove_host)
    routes.add("/hosts/<host_id>/deactivate", Operation.ACTION, tag="action",
               summary="Put a host into maintenance")(deactivate_host)
    routes.add("/hosts/<host_id>/activate", Operation.ACTION, tag="action",
               summary="Activate a host")(activate_host)
    routes.add("/hosts/<host_id>/fence", Operation.ACTION, tag="action",
               summary="Power management: start, stop, restart or status")(fence_host)
    routes.add("/hosts/<host_id>/statistics", Operation.LIST, tag="statistic",
               summary="A host's statistics: CPU, memory, KSM, network")(list_statistics)
    routes.add("/hosts/<host_id>/statistics/<statistic_id>", Operation.GET, tag="statistic",
               summary="One statistic of a host")(get_statistic)
    routes.add("/jointokens", Operation.ADD, tag="join_token",
               summary="Make a one-time token for a host to join")(add_join_token)


def add_host() -> Response:
    engine = http.engine()
    values = http.read(host_add_type())
    name = values.get("name")
    if not name:
        raise InvalidInput("A new host needs a <name>.")
    actor = http.actor()
    if values.get("type") == "lab":
        memory = values.get("memory")
        host = engine.hosts.start_lab_host(name, actor=actor, memory=memory or None)
    else:
        address = values.get("address")
        if not address:
            raise InvalidInput("A new host needs an <address> (or <type>lab</type>).")
        host = engine.hosts.add(name, uri=values.get("libvirt_uri", ""), address=address,
                                actor=actor, power_management=power.power_management(
                                    values.get("power_management/type", ""),
                                    address=values.get("power_management/address", ""),
                                    username=values.get("power_management/username", "")))
    return http.respond_object(HOST, host, created=True)


def update_host(host_id: str) -> Response:
    engine = http.engine()
    node = http.read_node("host")
    host = engine.hosts.get(host_id)
    _check_echoes(node, host)
    values = host_update_type().read(node)
    cluster = values.get("cluster")
    edit = HostEdit(
        name=values.get("name"), description=values.get("description"),
        comment=values.get("comment"),
        cluster_id=listing.resolve(engine.clusters, cluster, noun="cluster").id
        if cluster else None,
        spm_priority=values.get("spm/priority"),
        kernel_cmdline=values.get("os/custom_kernel_cmdline"),
        pm_enabled=values.get("power_management/enabled"),
        kdump_detection=values.get("power_management/kdump_detection"),
        automatic_pm=values.get("power_management/automatic_pm_enabled"))
    return http.respond_object(HOST, engine.hosts.update(host.id, edit, actor=http.actor()))


def _check_echoes(node: Node, host: Host) -> None:
    """An address other than the host's is a reinstall on another machine: refused."""
    address = node.get("address")
    if address and address != host.address:
        raise NotSupported(f"Host {host.name} is reached at {host.address}; a new address "
                           "means adding the other machine as a host of its own.")


def add_join_token() -> Response:
    token = http.engine().joining.create_token(actor=http.actor())
    return http.respond(JOIN_TOKEN.tag, JOIN_TOKEN.render(token), status=201)


def remove_host(host_id: str) -> Response:
    http.engine().hosts.remove(host_id, actor=http.actor())
    return Response(status=200)


def fence_host(host_id: str) -> Response:
    node = http.read_action()
    engine, actor = http.engine(), http.actor()
    kind = str(node.get("fence_type", "")).lower()
    if kind == "start":
        engine.hosts.power_on(host_id, actor=actor)
    elif kind == "stop":
        engine.hosts.fence(host_id, actor=actor)
    elif kind == "restart":
        engine.hosts.restart(host_id, actor=actor)
    elif kind == "status":
        host = engine.hosts.get(host_id)
        state = "on" if engine.hosts.powered_on(host) else "off"
        return http.respond_action(power_management={"status": state})
    else:
        raise InvalidInput("<fence_type> must be start, stop, restart or status.")
    return http.respond_action()


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


def list_statistics(host_id: str) -> Response:
    return http.respond_list(STATISTIC, _statistics(host_id))


def get_statistic(host_id: str, statistic_id: str) -> Response:
    return http.respond(STATISTIC.tag, one(_statistics(host_id), statistic_id))


def _statistics(host_id: str) -> list[Node]:
    engine = http.engine()
    host = engine.hosts.get(host_id)
    return [render(s, "hosts", host.id, {"host": host.id})
            for s in host_statistics(host, engine.monitor.latest(host.id))]
