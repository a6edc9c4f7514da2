"""The scheduler: where VMs run (filters and weights) and how the cluster stays balanced
(oVirt's cluster policies, run periodically by the balancer)."""

from __future__ import annotations

from appliance.engine.scheduling.load import HostLoad
from appliance.engine.scheduling.scheduler import Scheduler

__all__ = ["HostLoad", "Scheduler"]
