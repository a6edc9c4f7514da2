"""What every engine service is built with: the store, the event log, jobs and the hosts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from appliance.config import Config
from appliance.engine.audit import AuditLog
from appliance.engine.clock import Clock, SystemClock
from appliance.engine.events import EventLog
from appliance.engine.jobs import Jobs
from appliance.engine.store.schema import Store
from appliance.errors import HostAgentError
from appliance.vdsm.agent_interface import HostAgent


@dataclass
class Hosts:
    """The agents of the hosts the engine manages, by host id."""

    agents: dict[str, HostAgent] = field(default_factory=dict)

    def agent(self, host_id: str) -> HostAgent:
        try:
            return self.agents[host_id]
        except KeyError:
            raise HostAgentError(f"host {host_id} is not connected") from None

    def any(self) -> HostAgent:
        """An agent for storage work: every host sees the shared storage domains."""
        if not self.agents:
            raise HostAgentError("no host is connected")
        agents = list(self.agents.values())
        # A lab or remote host may be down for a moment: prefer one that answers.
        return next((a for a in agents if a.reachable), agents[0])


class Locks:
    """One lock per object id, so two actions on one VM never interleave."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.RLock] = {}

    @contextmanager
    def hold(self, object_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(object_id, threading.RLock())
        with lock:
            yield


@dataclass
class EngineContext:
    config: Config
    store: Store
    events: EventLog
    jobs: Jobs
    hosts: Hosts
    locks: Locks
    appliance_id: str
    audit: AuditLog
    clock: Clock = field(default_factory=SystemClock)  # what expiry and history go by
