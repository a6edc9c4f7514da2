"""Read model of the hosts page: each host with its cluster and what its running VMs take,
and whether maintenance would shut its VMs down (no other host of its cluster is up)."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.enums import HostStatus
from appliance.engine.model import Host
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class HostLoad:
    host: Host
    cluster_name: str
    running_vms: int
    memory_used: int  # given to its running VMs
    last_up: bool = False  # the only host up in its cluster: no VM can move elsewhere

    @property
    def maintenance_stops_vms(self) -> bool:
        return self.last_up and self.running_vms > 0


def host_loads(store: Store) -> list[HostLoad]:
    running: dict[str, tuple[int, int]] = {}
    for vm in store.vms.all():
        if vm.host_id and vm.status.is_running:
            count, memory = running.get(vm.host_id, (0, 0))
            running[vm.host_id] = (count + 1, memory + vm.memory)
    clusters = {c.id: c.name for c in store.clusters.all()}
    hosts = store.hosts.all()
    up: dict[str, int] = {}
    for host in hosts:
        if host.status is HostStatus.UP:
            up[host.cluster_id] = up.get(host.cluster_id, 0) + 1
    return [HostLoad(host=h, cluster_name=clusters.get(h.cluster_id, "?"),
                     running_vms=running.get(h.id, (0, 0))[0],
                     memory_used=running.get(h.id, (0, 0))[1],
                     last_up=h.status is HostStatus.UP and up.get(h.cluster_id, 0) == 1)
            for h in hosts]
