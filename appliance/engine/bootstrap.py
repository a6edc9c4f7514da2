"""What a fresh appliance has: data center and cluster Default, the ovirtmgmt network, the
Blank template, the local host and the RAM storage domain. Run at every start: it creates
what is missing and brings the local parts up to date with the configuration."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.config import Config
from appliance.engine.enums import HostStatus, NetworkUsage, StorageDomainStatus
from appliance.engine.ids import new_id
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
    DEFAULT_MAC_POOL_ID,
    Cluster,
    ClusterNetwork,
    DataCenter,
    GiB,
    Host,
    InstanceType,
    MacPool,
    MacRange,
    MiB,
    Network,
    StorageDomain,
    Template,
    VnicProfile,
)
from appliance.engine.store.schema import Store
from appliance.errors import NotFound
from appliance.vdsm.host import HostFacts

DEFAULT = "Default"
MANAGEMENT_NETWORK = "ovirtmgmt"
RAM_DOMAIN = "ram"
MANAGEMENT_USAGES = (NetworkUsage.MANAGEMENT, NetworkUsage.DISPLAY, NetworkUsage.MIGRATION,
                     NetworkUsage.DEFAULT_ROUTE)
# oVirt's predefined instance types: name, memory, vCPUs (as sockets)
INSTANCE_TYPES = (("Tiny", 512 * MiB, 1), ("Small", 2 * GiB, 1), ("Medium", 4 * GiB, 2),
                  ("Large", 8 * GiB, 2), ("XLarge", 16 * GiB, 4))


def appliance_id(store: Store) -> str:
    found = store.meta("appliance_id")
    if found is None:
        found = new_id()
        store.set_meta("appliance_id", found)
    return found


def local_host_id(store: Store) -> str:
    found = store.meta("local_host_id")
    if found is None:
        found = new_id()
        store.set_meta("local_host_id", found)
    return found


def ensure_defaults(store: Store, config: Config) -> None:
    with store.db.transaction():
        datacenter = store.datacenters.by_name(DEFAULT) or store.datacenters.insert(
            DataCenter(id=new_id(), name=DEFAULT, description="The default data center"))
        if store.clusters.by_name(DEFAULT) is None:
            store.clusters.insert(Cluster(id=new_id(), name=DEFAULT,
                                          data_center_id=datacenter.id,
                                          description="The default cluster"))
        for each in store.datacenters.all():
            management_network(store, each.id)
        for cluster in store.clusters.all():
            _attach_management_network(store, cluster)
        _ensure_mac_pool(store)
        _ensure_instance_types(store)
        if store.templates.find(BLANK_TEMPLATE_ID) is None:
            store.templates.insert(Template(id=BLANK_TEMPLATE_ID, name="Blank", cluster_id=None,
                                            description="Blank template", created=time.time()))
        _ensure_ram_domain(store, config, datacenter.id)


def management_network(store: Store, datacenter_id: str) -> Network:
    """The data center's ovirtmgmt (made with its vNIC profile if it has none), as oVirt
    gives every data center one."""
    for network in store.networks.where(data_center_id=datacenter_id):
        if network.name == MANAGEMENT_NETWORK:
            if not network.usages:  # made before networks had usages
                network = store.networks.update(replace(network, usages=MANAGEMENT_USAGES))
            return network
    network = store.networks.insert(Network(
        id=new_id(), name=MANAGEMENT_NETWORK, data_center_id=datacenter_id,
        description="Management network", usages=MANAGEMENT_USAGES))
    store.vnic_profiles.insert(VnicProfile(id=new_id(), name=MANAGEMENT_NETWORK,
                                           network_id=network.id))
    return network


def with_management_network(store: Store, cluster: Cluster) -> Cluster:
    """``cluster`` with its data center's management network attached (required)."""
    network = management_network(store, cluster.data_center_id)
    if any(n.network_id == network.id for n in cluster.networks):
        return cluster
    return replace(cluster, networks=(ClusterNetwork(network.id), *cluster.networks))


def _attach_management_network(store: Store, cluster: Cluster) -> None:
    attached = with_management_network(store, cluster)
    if attached != cluster:
        store.clusters.update(attached)


def default_mac_range(store: Store) -> MacRange:
    """65536 addresses under oVirt's 56:6f prefix, the middle bytes this appliance's own, so
    that two sticks on one LAN do not hand out the same MACs."""
    middle = appliance_id(store).replace("-", "")[:4]
    prefix = f"56:6f:{middle[:2]}:{middle[2:4]}"
    return MacRange(start=f"{prefix}:00:00", end=f"{prefix}:ff:ff")


def _ensure_mac_pool(store: Store) -> None:
    if store.mac_pools.find(DEFAULT_MAC_POOL_ID) is None:
        store.mac_pools.insert(MacPool(
            id=DEFAULT_MAC_POOL_ID, name="Default", description="Default MAC pool",
            ranges=(default_mac_range(store),), default_pool=True))


def _ensure_instance_types(store: Store) -> None:
    for index, (name, memory, vcpus) in enumerate(INSTANCE_TYPES, start=1):
        type_id = f"00000000-0000-0000-0000-00000000000{index}"
        if store.instance_types.find(type_id) is None:
            store.instance_types.insert(InstanceType(
                id=type_id, name=name, memory=memory, cpu_sockets=vcpus,
                description=f"{name} instance type", predefined=True))


def default_cluster(store: Store) -> Cluster:
    """The cluster new VMs and hosts join when none is named: Default, made at first boot,
    else the first there is (``Clusters.default()`` is how services and faces ask)."""
    found = store.clusters.by_name(DEFAULT)
    if found is not None:
        return found
    clusters = store.clusters.all()
    if not clusters:
        raise NotFound("There is no cluster.")
    return clusters[0]


def register_local_host(store: Store, facts: HostFacts, *, uri: str) -> Host:
    host_id = local_host_id(store)
    cluster = default_cluster(store)
    existing = store.hosts.find(host_id)
    host = Host(id=host_id, name=existing.name if existing else facts.hostname or "localhost",
                cluster_id=existing.cluster_id if existing else cluster.id,
                address="localhost", status=HostStatus.UP, libvirt_uri=uri,
                memory=facts.memory, cpus=facts.cpus, virt_type=facts.virt_type,
                cpu_model=facts.cpu_model,
                description="This machine")
    if existing is not None and existing.status is HostStatus.MAINTENANCE:
        host = replace(host, status=HostStatus.MAINTENANCE)
    return store.hosts.update(host) if existing else store.hosts.insert(host)


def _ensure_ram_domain(store: Store, config: Config, datacenter_id: str) -> None:
    domain = store.storage_domains.by_name(RAM_DOMAIN)
    wanted = dict(path=str(config.storage.path), backing=config.storage.backing.value,
                  overcommit_percent=config.storage.overcommit_percent)
    if domain is None:
        store.storage_domains.insert(StorageDomain(
            id=new_id(), name=RAM_DOMAIN, data_center_id=datacenter_id,
            status=StorageDomainStatus.ACTIVE,
            description="Storage in memory: gone at reboot", **wanted))  # type: ignore[arg-type]
    else:
        store.storage_domains.update(replace(domain, **wanted))  # type: ignore[arg-type]
