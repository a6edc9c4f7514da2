"""Monitoring: sampling hosts, VMs and storage domains, history in tiers, oVirt statistics."""

from appliance.engine.clock import Clock, ManualClock, SystemClock
from appliance.engine.monitoring.history import DEFAULT_TIERS, History, Point, Tier
from appliance.engine.monitoring.measurements import Measurement, ObjectKind
from appliance.engine.monitoring.sampler import Monitor, Round

__all__ = ["DEFAULT_TIERS", "Clock", "History", "ManualClock", "Measurement", "Monitor",
           "ObjectKind", "Point", "Round", "SystemClock", "Tier"]
