"""oVirt's cluster policies: their properties with oVirt's defaults, how each weighs hosts
for a new VM, and which hosts count as over- or under-utilized when balancing.

Memory properties are in MiB and durations in minutes, as oVirt spells them. A host is
over-utilized when its VMs' CPU use stayed above HighUtilization for
CpuOverCommitDurationMinutes, or its free memory is below MaxFreeMemoryForOverUtilized;
under-utilized when CPU use stayed below LowUtilization that long, or its free memory is
above MinFreeMemoryForUnderUtilized (the memory rules apply only when those are set).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from appliance.engine.enums import SchedulingPolicyName
from appliance.engine.model import Cluster, MiB
from appliance.engine.scheduling.load import HostLoad
from appliance.errors import InvalidInput

DEFAULTS: dict[SchedulingPolicyName, dict[str, int]] = {
    SchedulingPolicyName.NONE: {},
    SchedulingPolicyName.EVENLY_DISTRIBUTED: {
        "CpuOverCommitDurationMinutes": 2, "HighUtilization": 80,
        "MaxFreeMemoryForOverUtilized": 0, "MinFreeMemoryForUnderUtilized": 0},
    SchedulingPolicyName.POWER_SAVING: {
        "CpuOverCommitDurationMinutes": 2, "HighUtilization": 80, "LowUtilization": 20,
        "HostsInReserve": 0, "EnableAutomaticHostPowerManagement": 1,
        "MaxFreeMemoryForOverUtilized": 0, "MinFreeMemoryForUnderUtilized": 0},
    SchedulingPolicyName.VM_EVENLY_DISTRIBUTED: {
        "HighVmCount": 10, "MigrationThreshold": 5, "SpmVmGrace": 5},
}


@dataclass(frozen=True)
class Policy:
    name: SchedulingPolicyName
    properties: dict[str, int]

    def get(self, key: str) -> int:
        return self.properties.get(key, 0)

    def weight(self, load: HostLoad) -> tuple[float, ...]:
        """Lower is better for a new VM."""
        if self.name is SchedulingPolicyName.POWER_SAVING:
            # Fill the busiest host that still has room, so others can be switched off.
            return (-load.vm_count, load.free_memory)
        if self.name is SchedulingPolicyName.VM_EVENLY_DISTRIBUTED:
            return (load.vm_count, -load.free_memory)
        if self.name is SchedulingPolicyName.EVENLY_DISTRIBUTED:
            return (round(load.cpu_percent / 10), -load.free_memory, load.vm_count)
        return (-load.free_memory,)


def for_cluster(cluster: Cluster) -> Policy:
    name = cluster.scheduling_policy
    properties = dict(DEFAULTS[name])
    for key, value in cluster.scheduling_properties:
        if key in properties:
            properties[key] = _integer(key, value)
    return Policy(name, properties)


def parse_name(text: str) -> SchedulingPolicyName:
    """A policy named by a user (the API, the portal), or a clear refusal."""
    try:
        return SchedulingPolicyName(text)
    except ValueError:
        known = ", ".join(p.value for p in SchedulingPolicyName)
        raise InvalidInput(f"'{text}' is not a scheduling policy; use one of {known}.") from None


def check_properties(name: SchedulingPolicyName, properties: dict[str, str]) -> None:
    for key, value in properties.items():
        if key not in DEFAULTS[name]:
            known = ", ".join(DEFAULTS[name]) or "none"
            raise InvalidInput(f"Policy {name.value} has no property '{key}' (it has: "
                               f"{known}).")
        _integer(key, value)


def _integer(key: str, value: str) -> int:
    text = value.strip().lower()
    if text in ("true", "false"):
        return int(text == "true")
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"Scheduling property {key} must be a whole number, not "
                           f"'{value}'.") from None


class Utilization:
    """Classifies hosts under a policy, remembering since when CPU use stayed high or low."""

    def __init__(self) -> None:
        self._high_since: dict[str, float] = {}
        self._low_since: dict[str, float] = {}

    def over(self, policy: Policy, load: HostLoad) -> bool:
        limit = policy.get("MaxFreeMemoryForOverUtilized") * MiB
        if limit and load.free_memory < limit:
            return True
        high = policy.get("HighUtilization")
        return bool(high) and self._lasting(self._high_since, load, load.cpu_percent > high,
                                            policy)

    def under(self, policy: Policy, load: HostLoad) -> bool:
        limit = policy.get("MinFreeMemoryForUnderUtilized") * MiB
        if limit and load.free_memory > limit:
            return True
        low = policy.get("LowUtilization")
        return bool(low) and self._lasting(self._low_since, load, load.cpu_percent < low,
                                           policy)

    def _lasting(self, since: dict[str, float], load: HostLoad, now_true: bool,
                 policy: Policy) -> bool:
        host_id = load.host.id
        if not now_true:
            since.pop(host_id, None)
            return False
        started = since.setdefault(host_id, time.monotonic())
        return time.monotonic() - started >= policy.get("CpuOverCommitDurationMinutes") * 60
