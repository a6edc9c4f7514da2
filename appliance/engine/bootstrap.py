"""What a fresh appliance has: data center and cluster Default, the ovirtmgmt network, the
Blank template, the local host and the RAM storage domain. Run at every start: it creates
what is missing and brings the local parts up to date with the configuration."""

from __future__ import annotations

import time
from dataclasses import replace

from appliance.config import Config
from appliance.engine.enums import HostStatus, StorageDomainStatus
from appliance.engine.ids import new_id
from appliance.engine.model import (
    BLANK_TEMPLATE_ID,
    Cluster,
    DataCenter,
    Host,
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
        if store.networks.by_name(MANAGEMENT_NETWORK) is None:
            network = store.networks.insert(Network(
                id=new_id(), name=MANAGEMENT_NETWORK, data_center_id=datacenter.id,
                description="Management network"))
            store.vnic_profiles.insert(VnicProfile(id=new_id(), name=MANAGEMENT_NETWORK,
                                                   network_id=network.id))
        if store.templates.find(BLANK_TEMPLATE_ID) is None:
            store.templates.insert(Template(id=BLANK_TEMPLATE_ID, name="Blank", cluster_id=None,
                                            description="Blank template", created=time.time()))
        _ensure_ram_domain(store, config, datacenter.id)


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
