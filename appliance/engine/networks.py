"""Logical networks and their vNIC profiles (how a NIC joins a network): read by the faces;
bootstrap makes ovirtmgmt and its profile."""

from __future__ import annotations

import builtins

from appliance.engine.context import EngineContext
from appliance.engine.model import Network, VnicProfile
from appliance.errors import NotFound


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

    def default_profile(self, network_id: str) -> VnicProfile:
        """The profile a NIC given only a network joins it through (API v3's way)."""
        network = self.get(network_id)
        profiles = self.ctx.store.vnic_profiles.where(network_id=network.id)
        if not profiles:
            raise NotFound(f"Network '{network.name}' has no vNIC profile.")
        return profiles[0]


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
