"""Read model of the networks page: each logical network with its data center and profiles."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.engine.model import Network
from appliance.engine.store.schema import Store


@dataclass(frozen=True)
class NetworkRow:
    network: Network
    data_center_name: str
    profile_names: tuple[str, ...]  # its vNIC profiles


def network_rows(store: Store) -> list[NetworkRow]:
    datacenters = {d.id: d.name for d in store.datacenters.all()}
    profiles = store.vnic_profiles.all()
    return [NetworkRow(network=n, data_center_name=datacenters.get(n.data_center_id, "?"),
                       profile_names=tuple(p.name for p in profiles if p.network_id == n.id))
            for n in store.networks.all()]
