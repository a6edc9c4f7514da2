"""Logical networks and their vNIC profiles (how a NIC joins a network), defined per data
center and attached to clusters, with oVirt's rules: names unique in a data center, the
management network kept while clusters have it, a network in use not removed. Each new
network gets a vNIC profile of its name, as oVirt makes one.

The host agents carry the networks (vdsm/networks.py): ovirtmgmt as the configuration maps
it, every network without a VLAN as an isolated segment of each host (or QEMU's user
networking in development). A VM with a NIC on a network no host carries (one with a VLAN)
is refused at its start by the scheduler's network filter, naming it.
"""

from __future__ import annotations

import builtins
import contextlib
from dataclasses import dataclass, replace
from typing import TypeVar

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import NetworkUsage
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Cluster, ClusterNetwork, Network, VnicProfile
from appliance.engine.store.schema import Store
from appliance.errors import HostAgentError, InvalidInput, InvalidState, NameInUse, NotFound
from appliance.vdsm.networks import NetworkNeed

T = TypeVar("T")
MTU_RANGE = range(68, 65536)
VLAN_RANGE = range(0, 4095)


@dataclass(frozen=True)
class NetworkSpec:
    """A network to add, or (with None for what stays) the changes of ``PUT``."""

    name: str | None = None
    data_center_id: str | None = None
    description: str | None = None
    comment: str | None = None
    vlan_id: int | None = None  # 0: none
    mtu: int | None = None  # 0: the default
    usages: tuple[NetworkUsage, ...] | None = None  # VM among them makes it a VM network


class Networks:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[Network]:
        return self.ctx.store.networks.all()

    def get(self, network_id: str) -> Network:
        return self.ctx.store.networks.get(network_id)

    def find(self, network_id: str) -> Network | None:
        return self.ctx.store.networks.find(network_id)

    def find_by_name(self, name: str) -> Network | None:
        return self.ctx.store.networks.by_name(name)

    def in_data_center(self, datacenter_id: str) -> builtins.list[Network]:
        self.ctx.store.datacenters.get(datacenter_id)
        return self.ctx.store.networks.where(data_center_id=datacenter_id)

    def default_profile(self, network_id: str) -> VnicProfile:
        """The profile a NIC given only a network joins it through (API v3's way)."""
        network = self.get(network_id)
        profiles = self.ctx.store.vnic_profiles.where(network_id=network.id)
        if not profiles:
            raise NotFound(f"Network '{network.name}' has no vNIC profile.")
        return profiles[0]

    # Definitions

    @audited(AuditAction.NETWORK_ADD)
    def add(self, spec: NetworkSpec, *, actor: Actor) -> Network:
        require_superuser(actor, "add logical networks")
        if not spec.data_center_id:
            raise InvalidInput("Cannot add Network. A network belongs to a data center: name "
                               "one.")
        datacenter = self.ctx.store.datacenters.get(spec.data_center_id)
        name = validation.name(spec.name or "", noun="network")
        usages = spec.usages if spec.usages is not None else (NetworkUsage.VM,)
        network = _checked(Network(
            id=new_id(), name=name, data_center_id=datacenter.id,
            description=spec.description or "", comment=spec.comment or "",
            vlan_id=spec.vlan_id or 0, mtu=spec.mtu or 0, vm=NetworkUsage.VM in usages,
            usages=tuple(u for u in usages if u is not NetworkUsage.VM)))
        with self.ctx.store.db.transaction():
            self._require_free_name(network)
            self.ctx.store.networks.insert(network)
            self.ctx.store.vnic_profiles.insert(VnicProfile(
                id=new_id(), name=network.name, network_id=network.id))
        self.ctx.events.record(EventCode.NETWORK_ADDED, f"Network {name} was added to data center "
                               f"{datacenter.name} by {actor.name}.", user=actor.name)
        return network

    @audited(AuditAction.NETWORK_UPDATE)
    def update(self, network_id: str, spec: NetworkSpec, *, actor: Actor) -> Network:
        require_superuser(actor, "edit logical networks")
        with self.ctx.locks.hold(network_id):
            network = self.get(network_id)
            changed = _checked(_edited(network, spec))
            if changed.name != network.name:
                validation.name(changed.name, noun="network")
                self._require_not_management(network, "renamed")
                self._require_free_name(changed)
            if spec.data_center_id and spec.data_center_id != network.data_center_id:
                raise InvalidState("Cannot edit Network. A network stays in its data center: "
                                   "add one to the other data center instead.")
            if (changed.vlan_id, changed.mtu, changed.vm) != (network.vlan_id, network.mtu,
                                                             network.vm):
                self._require_unused(network, "changed", running_only=changed.vm)
            self.ctx.store.networks.update(changed)
        self.ctx.events.record(EventCode.NETWORK_UPDATED, f"Network {changed.name} was updated by "
                               f"{actor.name}.", user=actor.name)
        return changed

    @audited(AuditAction.NETWORK_REMOVE)
    def remove(self, network_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove logical networks")
        with self.ctx.locks.hold(network_id):
            network = self.get(network_id)
            if self._clusters_with(network):
                self._require_not_management(network, "removed")
            self._require_unused(network, "removed")
            store = self.ctx.store
            with store.db.transaction():
                for profile in store.vnic_profiles.where(network_id=network.id):
                    store.vnic_profiles.delete(profile.id)
                for cluster in store.clusters.where(data_center_id=network.data_center_id):
                    kept = tuple(n for n in cluster.networks if n.network_id != network.id)
                    if kept != cluster.networks:
                        store.clusters.update(replace(cluster, networks=kept))
                store.networks.delete(network.id)
        if not store.networks.where(name=network.name):  # another data center's may remain
            for agent in list(self.ctx.hosts.agents.values()):
                with contextlib.suppress(HostAgentError):  # unreachable: gone with it
                    agent.forget_network(network.name)
        self.ctx.events.record(EventCode.NETWORK_REMOVED, f"Network {network.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    # Attached to clusters

    def of_cluster(self, cluster_id: str) -> builtins.list[tuple[Network, ClusterNetwork]]:
        cluster = self.ctx.store.clusters.get(cluster_id)
        found = []
        for attached in cluster.networks:
            network = self.ctx.store.networks.find(attached.network_id)
            if network is not None:
                found.append((network, attached))
        return found

    @audited(AuditAction.NETWORK_ATTACH)
    def attach(self, cluster_id: str, network_id: str, *, actor: Actor,
               required: bool = True) -> Cluster:
        require_superuser(actor, "attach networks to clusters")
        with self.ctx.locks.hold(cluster_id):
            cluster = self.ctx.store.clusters.get(cluster_id)
            network = self.get(network_id)
            if network.data_center_id != cluster.data_center_id:
                raise InvalidState(f"Cannot attach Logical Network to Cluster. Network "
                                   f"{network.name} is not in the data center of cluster "
                                   f"{cluster.name}.")
            if any(n.network_id == network.id for n in cluster.networks):
                raise NameInUse(f"Cannot attach Logical Network to Cluster. Network "
                                f"{network.name} is already attached to cluster "
                                f"{cluster.name}.")
            attached = ClusterNetwork(network_id=network.id, required=required)
            cluster = self.ctx.store.clusters.update(
                replace(cluster, networks=(*cluster.networks, attached)))
        self.ctx.events.record(EventCode.NETWORK_ATTACHED, f"Network {network.name} was "
                               f"attached to cluster {cluster.name} by {actor.name}.",
                               user=actor.name)
        return cluster

    @audited(AuditAction.NETWORK_SET_REQUIRED)
    def set_required(self, cluster_id: str, network_id: str, *, required: bool,
                     actor: Actor) -> Cluster:
        """Whether the cluster's hosts must carry the network (oVirt's ``required``)."""
        require_superuser(actor, "change networks of clusters")
        with self.ctx.locks.hold(cluster_id):
            cluster = self.ctx.store.clusters.get(cluster_id)
            network = self.get(network_id)
            if not any(n.network_id == network.id for n in cluster.networks):
                raise NotFound(f"Network {network.name} is not attached to cluster "
                               f"{cluster.name}.")
            networks = tuple(replace(n, required=required) if n.network_id == network.id
                             else n for n in cluster.networks)
            cluster = self.ctx.store.clusters.update(replace(cluster, networks=networks))
        self.ctx.events.record(EventCode.NETWORK_UPDATED, f"Network {network.name} of cluster "
                               f"{cluster.name} is {'' if required else 'not '}required now, "
                               f"as {actor.name} set.", user=actor.name)
        return cluster

    @audited(AuditAction.NETWORK_DETACH)
    def detach(self, cluster_id: str, network_id: str, *, actor: Actor) -> Cluster:
        require_superuser(actor, "detach networks from clusters")
        with self.ctx.locks.hold(cluster_id):
            cluster = self.ctx.store.clusters.get(cluster_id)
            network = self.get(network_id)
            kept = tuple(n for n in cluster.networks if n.network_id != network.id)
            if kept == cluster.networks:
                raise NotFound(f"Network {network.name} is not attached to cluster "
                               f"{cluster.name}.")
            self._require_not_management(network, "detached from its cluster")
            users = self._vms_using(network, cluster_id=cluster.id)
            if users:
                raise InvalidState(f"Cannot detach Logical Network from Cluster. VMs of "
                                   f"cluster {cluster.name} use it: {', '.join(users)}.")
            cluster = self.ctx.store.clusters.update(replace(cluster, networks=kept))
        self.ctx.events.record(EventCode.NETWORK_DETACHED, f"Network {network.name} was "
                               f"detached from cluster {cluster.name} by {actor.name}.",
                               user=actor.name)
        return cluster

    # Checks

    def _clusters_with(self, network: Network) -> builtins.list[str]:
        return [c.name for c in self.ctx.store.clusters.where(
            data_center_id=network.data_center_id)
            if any(n.network_id == network.id for n in c.networks)]

    def _require_free_name(self, network: Network) -> None:
        for other in self.ctx.store.networks.where(data_center_id=network.data_center_id):
            if other.name == network.name and other.id != network.id:
                raise NameInUse(f"Cannot add Network. The name of the logical network "
                                f"'{network.name}' is already used by an existing logical "
                                "network in the same data center.")

    def _require_not_management(self, network: Network, what: str) -> None:
        if network.name == bootstrap.MANAGEMENT_NETWORK:
            raise InvalidState(f"Cannot edit Network. The management network "
                               f"'{network.name}' cannot be {what}: the hosts reach the "
                               "engine through it.")

    def _require_unused(self, network: Network, what: str, *,
                        running_only: bool = False) -> None:
        users = self._vms_using(network, running_only=running_only)
        if users:
            state = "running " if running_only else ""
            raise InvalidState(f"Cannot {what.removesuffix('d')} Network. {state.title()}VMs "
                               f"use network {network.name}: {', '.join(users)}; it cannot "
                               f"be {what} while they do.")

    def _vms_using(self, network: Network, *, cluster_id: str | None = None,
                   running_only: bool = False) -> builtins.list[str]:
        """Names of the VMs (and templates) whose NICs join ``network``."""
        store = self.ctx.store
        profiles = {p.id for p in store.vnic_profiles.where(network_id=network.id)}
        names = []
        for nic in store.nics.all():
            if nic.vnic_profile_id not in profiles:
                continue
            vm = store.vms.find(nic.vm_id)
            if vm is not None:
                if (cluster_id and vm.cluster_id != cluster_id) or (
                        running_only and not vm.status.is_running):
                    continue
                names.append(vm.name)
            elif (not running_only and (template := store.templates.find(nic.vm_id))
                  and (not cluster_id or template.cluster_id == cluster_id)):
                names.append(f"template {template.name}")
        return sorted(set(names))


def _edited(network: Network, spec: NetworkSpec) -> Network:
    usages = spec.usages
    return replace(
        network, name=_pick(spec.name, network.name),
        description=_pick(spec.description, network.description),
        comment=_pick(spec.comment, network.comment),
        vlan_id=_pick(spec.vlan_id, network.vlan_id), mtu=_pick(spec.mtu, network.mtu),
        vm=network.vm if usages is None else NetworkUsage.VM in usages,
        usages=network.usages if usages is None else tuple(
            u for u in usages if u is not NetworkUsage.VM))


def _pick(value: T | None, current: T) -> T:
    return current if value is None else value


def _checked(network: Network) -> Network:
    if network.vlan_id not in VLAN_RANGE:
        raise InvalidInput(f"The VLAN id of network {network.name} must be between 0 and "
                           f"4094, not {network.vlan_id}.")
    if network.mtu and network.mtu not in MTU_RANGE:
        raise InvalidInput(f"The MTU of network {network.name} must be between 68 and "
                           f"65535 (or 0, the default), not {network.mtu}.")
    return network


def needs_of(store: Store, vm_id: str) -> tuple[NetworkNeed, ...]:
    """The networks a VM's plugged NICs join, as a host must carry them (a migration's
    target makes them before the VM arrives)."""
    needs = {}
    for nic in store.nics.where(vm_id=vm_id):
        if nic.plugged and nic.vnic_profile_id is not None:
            profile = store.vnic_profiles.find(nic.vnic_profile_id)
            network = store.networks.find(profile.network_id) if profile else None
            if network is not None:
                needs[network.name] = NetworkNeed(network.name, vlan=network.vlan_id,
                                                  mtu=network.mtu)
    return tuple(needs.values())


class VnicProfiles:
    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx

    def list(self) -> builtins.list[VnicProfile]:
        return self.ctx.store.vnic_profiles.all()

    def get(self, profile_id: str) -> VnicProfile:
        return self.ctx.store.vnic_profiles.get(profile_id)

    def find(self, profile_id: str) -> VnicProfile | None:
        return self.ctx.store.vnic_profiles.find(profile_id)

    def find_by_name(self, name: str) -> VnicProfile | None:
        return self.ctx.store.vnic_profiles.by_name(name)
