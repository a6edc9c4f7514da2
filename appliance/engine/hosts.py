"""Hosts: the local one, lab hosts on this machine and hosts on other machines.

Each host the engine manages has an agent (a libvirt connection) in ``ctx.hosts``. Lab hosts
are started and stopped here; remote hosts are added by their libvirt URI (libvirt over TLS
or SSH, which the host's owner sets up, or a joined ``virtstick agent``). Maintenance, the
power saver and fencing change a host's status through this service too.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine import bootstrap, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity, HostKind, HostStatus, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.ids import new_id
from appliance.engine.model import Host, MiB
from appliance.engine.power import agent_for
from appliance.engine.storage import StorageDomains
from appliance.engine.vms import Vms
from appliance.errors import HostAgentError, InvalidInput, InvalidState, NameInUse, NotSupported
from appliance.vdsm.agent import LocalHostAgent
from appliance.vdsm.agent_interface import LifecycleHandler
from appliance.vdsm.agent_settings import AgentSettings
from appliance.vdsm.labhost import Lab, LabHostInfo

log = logging.getLogger(__name__)

HOST_FAILED = "its host failed and was fenced"  # why its VMs went down (HA restarts them)
SPM_PRIORITIES = range(-1, 11)  # oVirt's: -1 never, 10 first


@dataclass(frozen=True)
class HostEdit:
    """What ``PUT /hosts/{id}`` may change; None leaves a field as it is."""

    name: str | None = None
    description: str | None = None
    comment: str | None = None
    cluster_id: str | None = None
    spm_priority: int | None = None
    kernel_cmdline: str | None = None
    pm_enabled: bool | None = None
    kdump_detection: bool | None = None
    automatic_pm: bool | None = None


class HostService:
    def __init__(self, ctx: EngineContext, *, vms: Vms, settings: Callable[[], AgentSettings],
                 storage: StorageDomains, on_lifecycle: LifecycleHandler,
                 on_reconnect: Callable[[str], None]) -> None:
        self.ctx = ctx
        self._vms = vms
        self._settings = settings
        self._storage = storage
        self._on_lifecycle = on_lifecycle
        self._on_reconnect = on_reconnect
        self.lab = Lab(ctx.config.appliance.state_dir / "lab", token=ctx.appliance_id[:6])

    # Queries

    def list(self) -> list[Host]:
        return self.ctx.store.hosts.all()

    def get(self, host_id: str) -> Host:
        return self.ctx.store.hosts.get(host_id)

    def find(self, host_id: str) -> Host | None:
        return self.ctx.store.hosts.find(host_id)

    def find_by_name(self, name: str) -> Host | None:
        return self.ctx.store.hosts.by_name(name)

    # Lab hosts

    @audited(AuditAction.HOST_START_LAB_HOST)
    def start_lab_host(self, name: str, *, actor: Actor, memory: int | None = None) -> Host:
        """Start (or make and start) a lab host and join it to the Default cluster."""
        require_superuser(actor, "start lab hosts")
        validation.name(name, noun="host")
        existing = self.ctx.store.hosts.by_name(name)
        if existing is not None and existing.kind is not HostKind.LAB:
            raise NameInUse(f"The name '{name}' is already used by another host.")
        info = self.lab.start(name)
        memory = memory or (existing.memory if existing else
                            self.ctx.config.hosts.lab_memory_mib * MiB)
        host = self._register_lab_host(info, existing, memory)
        self.connect(host)
        self.ctx.events.record(EventCode.LAB_HOST_STARTED, f"Lab host {name} was started by "
                               f"{actor.name}.", host_id=host.id, user=actor.name)
        return self.ctx.store.hosts.get(host.id)

    @audited(AuditAction.HOST_STOP_LAB_HOST)
    def stop_lab_host(self, host_id: str, *, actor: Actor, crash: bool = False) -> Host:
        """Stop a lab host. ``crash``: at once, with its VMs, as a power failure would."""
        require_superuser(actor, "stop lab hosts")
        host = self._lab_host(host_id)
        if not crash and self._running_vms(host.id):
            raise InvalidState(f"Lab host {host.name} still runs VMs: move it to maintenance "
                               "first (or crash it on purpose).")
        info = self._lab_info(host)
        if crash:
            # Unannounced: the engine finds out as from a real host's failure.
            self.lab.stop(info, kill=True)
        else:
            self.disconnect(host.id)
            self.lab.stop(info)
            host = self.ctx.store.hosts.update(replace(host, status=HostStatus.DOWN))
        self.ctx.events.record(EventCode.LAB_HOST_STOPPED, f"Lab host {host.name} was "
                               f"{'crashed' if crash else 'stopped'} by {actor.name}.",
                               host_id=host.id, user=actor.name)
        return self.ctx.store.hosts.get(host.id)

    @audited(AuditAction.HOST_POWER_ON)
    def power_on(self, host_id: str, *, actor: Actor) -> Host:
        """Switch a host on (oVirt's fence start) and connect it."""
        require_superuser(actor, "switch hosts on")
        host = self.ctx.store.hosts.get(host_id)
        if host.kind is HostKind.LAB:
            return self.start_lab_host(host.name, actor=actor)
        power = agent_for(host, self.lab)
        if power is None:
            raise NotSupported(f"Host {host.name} has no power management to switch it on.")
        power.power_on(host)
        self.set_status(host.id, HostStatus.CONNECTING, standby=False)
        self.connect(self.ctx.store.hosts.get(host.id))
        return self.ctx.store.hosts.get(host.id)

    @audited(AuditAction.HOST_FENCE)
    def fence(self, host_id: str, *, actor: Actor) -> Host:
        """Cut a host's power on request (oVirt's fence stop): its VMs are down at once and
        highly available ones start elsewhere."""
        require_superuser(actor, "fence hosts")
        host = self.ctx.store.hosts.get(host_id)
        power = agent_for(host, self.lab)
        if power is None:
            raise NotSupported(f"Host {host.name} has no power management to fence it with.")
        power.fence(host)
        self.disconnect(host.id)
        for vm in self.ctx.store.vms.where(host_id=host.id):
            if vm.status is not VmStatus.DOWN:
                self._vms.mark_down(vm.id, reason=HOST_FAILED)
        self.ctx.events.record(EventCode.HOST_FENCED, f"Host {host.name} was fenced by "
                               f"{actor.name}.", host_id=host.id, user=actor.name,
                               severity=EventSeverity.WARNING)
        return self.set_status(host.id, HostStatus.DOWN)

    @audited(AuditAction.HOST_RESTART)
    def restart(self, host_id: str, *, actor: Actor) -> Host:
        """oVirt's fence restart: cut the power (as ``fence``), then switch the host on."""
        self.fence(host_id, actor=actor)
        return self.power_on(host_id, actor=actor)

    def powered_on(self, host: Host) -> bool:
        if host.kind is HostKind.LAB:
            info = self.lab.find(host.name)
            return info is not None and self.lab.running(info)
        agent = self.ctx.hosts.agents.get(host.id)
        return agent is not None and agent.reachable

    def lab_info(self, host: Host) -> LabHostInfo:
        return self._lab_info(host)

    def _register_lab_host(self, info: LabHostInfo, existing: Host | None,
                           memory: int) -> Host:
        cluster = bootstrap.default_cluster(self.ctx.store)
        host = Host(id=existing.id if existing else new_id(), name=info.name,
                    cluster_id=existing.cluster_id if existing else cluster.id,
                    address=info.address, status=HostStatus.CONNECTING,
                    libvirt_uri=info.uri, kind=HostKind.LAB, memory=memory,
                    migration_address=info.address, power_management="lab",
                    host_uuid=info.host_uuid, description="A lab host on this machine")
        if existing is not None and existing.status is HostStatus.MAINTENANCE:
            host = replace(host, status=HostStatus.MAINTENANCE)
        store = self.ctx.store.hosts
        return store.update(host) if existing else store.insert(host)

    def _lab_host(self, host_id: str) -> Host:
        host = self.ctx.store.hosts.get(host_id)
        if host.kind is not HostKind.LAB:
            raise InvalidState(f"Host {host.name} is not a lab host.")
        return host

    def _lab_info(self, host: Host) -> LabHostInfo:
        info = self.lab.find(host.name)
        if info is None:
            raise HostAgentError(f"lab host {host.name} has no directory under "
                                 f"{self.lab.root}")
        return info

    # Hosts on other machines

    @audited(AuditAction.HOST_ADD)
    def add(self, name: str, *, address: str, actor: Actor, uri: str = "",
            power_management: str = "") -> Host:
        """Join a host by the libvirt URI the engine reaches it at (qemu+tls://, qemu+ssh://);
        without one, libvirt over TLS at ``address`` (what a joined ``virtstick agent``
        listens on)."""
        require_superuser(actor, "add hosts")
        uri = uri or f"qemu+tls://{address}/system"
        validation.name(name, noun="host")
        if self.ctx.store.hosts.by_name(name) is not None:
            raise NameInUse(f"The name '{name}' is already used by another host.")
        cluster = bootstrap.default_cluster(self.ctx.store)
        host = self.ctx.store.hosts.insert(Host(
            id=new_id(), name=name, cluster_id=cluster.id, address=address,
            status=HostStatus.CONNECTING, libvirt_uri=uri, kind=HostKind.REMOTE,
            migration_address=address, power_management=power_management))
        try:
            self.connect(host)
        except HostAgentError:
            self.ctx.store.hosts.delete(host.id)
            raise
        self.ctx.events.record(
            EventCode.HOST_ADDED, f"Host {name} ({uri}) was added by {actor.name}.",
            host_id=host.id, user=actor.name)
        return self.ctx.store.hosts.get(host.id)

    @audited(AuditAction.HOST_REMOVE)
    def remove(self, host_id: str, *, actor: Actor) -> None:
        require_superuser(actor, "remove hosts")
        host = self.ctx.store.hosts.get(host_id)
        if host.kind is HostKind.LOCAL:
            raise InvalidState("The appliance's own host cannot be removed.")
        if host.status not in (HostStatus.MAINTENANCE, HostStatus.DOWN,
                               HostStatus.NON_RESPONSIVE) or self._running_vms(host.id):
            raise InvalidState(f"Host {host.name} is {host.status.value}; move it to "
                               "maintenance before removing it.")
        self.disconnect(host.id)
        if host.kind is HostKind.LAB:
            info = self.lab.find(host.name)
            if info is not None:
                self.lab.remove(info)
        self.ctx.store.hosts.delete(host.id)
        self.ctx.events.record(EventCode.HOST_REMOVED, f"Host {host.name} was removed by "
                               f"{actor.name}.", user=actor.name)

    @audited(AuditAction.HOST_UPDATE)
    def update(self, host_id: str, edit: HostEdit, *, actor: Actor) -> Host:
        """Change a host's names, cluster, SPM priority and power management settings, with
        oVirt's rules: another cluster only in maintenance, power management only with an
        agent."""
        require_superuser(actor, "edit hosts")
        with self.ctx.locks.hold(host_id):
            host = self.ctx.store.hosts.get(host_id)
            changed = replace(host, **{k: v for k, v in vars(edit).items() if v is not None})
            self._check_edit(host, changed, edit)
            self.ctx.store.hosts.update(changed)
        self.ctx.events.record(EventCode.HOST_UPDATED, f"Host {changed.name} was updated by "
                               f"{actor.name}.", host_id=host.id, user=actor.name)
        return self.ctx.store.hosts.get(host_id)

    def _check_edit(self, host: Host, changed: Host, edit: HostEdit) -> None:
        if changed.name != host.name:
            validation.name(changed.name, noun="host")
            if host.kind is HostKind.LAB:
                raise InvalidState(f"Cannot edit Host. Lab host {host.name} is named after its "
                                   "namespaces and directory: it cannot be renamed.")
            if self.ctx.store.hosts.by_name(changed.name) is not None:
                raise NameInUse(f"Cannot edit Host. The name '{changed.name}' is already "
                                "used by another host.")
        if changed.cluster_id != host.cluster_id:
            self.ctx.store.clusters.get(changed.cluster_id)
            if host.status is not HostStatus.MAINTENANCE:
                raise InvalidState(f"Cannot edit Host. Host {host.name} is "
                                   f"{host.status.value}: its cluster changes only in "
                                   "maintenance.")
        if changed.spm_priority not in SPM_PRIORITIES:
            raise InvalidInput(f"The SPM priority must be between -1 and 10, not "
                               f"{changed.spm_priority}.")
        if edit.pm_enabled and not host.power_management:
            raise InvalidState(f"Cannot edit Host. Power Management is enabled for Host "
                               f"{host.name} but no Agent type selected.")

    # Connections

    def connect(self, host: Host) -> None:
        """Open the host's agent and bring the host Up (unless it is in maintenance)."""
        self.disconnect(host.id)
        agent = LocalHostAgent(host_id=host.id, uri=host.libvirt_uri,
                               settings=self._settings(), on_lifecycle=self._on_lifecycle,
                               on_reconnect=lambda: self._on_reconnect(host.id))
        agent.open()
        facts = agent.facts()
        self._storage.connect_host(agent)  # every host sees the shared storage domains
        self.ctx.hosts.agents[host.id] = agent
        current = self.ctx.store.hosts.get(host.id)
        memory = min(current.memory, facts.memory) if current.memory else facts.memory
        status = (HostStatus.MAINTENANCE if current.status is HostStatus.MAINTENANCE
                  else HostStatus.UP)
        self.ctx.store.hosts.update(replace(
            current, status=status, memory=memory, cpus=facts.cpus, cpu_model=facts.cpu_model,
            virt_type=facts.virt_type, host_uuid=facts.uuid or current.host_uuid,
            standby=False))
        self._on_reconnect(host.id)

    def disconnect(self, host_id: str) -> None:
        agent = self.ctx.hosts.agents.pop(host_id, None)
        if isinstance(agent, LocalHostAgent):
            with contextlib.suppress(Exception):
                agent.close()

    def reconnect_all(self) -> None:
        """At engine start: lab hosts that were up are started again, others reconnected."""
        for host in self.ctx.store.hosts.all():
            if host.kind is HostKind.LOCAL or host.standby:
                continue
            if host.kind is HostKind.LAB and host.status is HostStatus.DOWN:
                continue  # stopped on purpose
            try:
                if host.kind is HostKind.LAB:
                    self.lab.start(host.name)
                self.connect(host)
            except HostAgentError as exc:
                self.set_status(host.id, HostStatus.NON_RESPONSIVE)
                self.ctx.events.record(EventCode.HOST_UNREACHABLE, f"Host {host.name} could not be "
                                       f"reached: {exc.detail}", host_id=host.id,
                                       severity=EventSeverity.WARNING)

    def close(self) -> None:
        for host_id in list(self.ctx.hosts.agents):
            if self.ctx.store.hosts.get(host_id).kind is not HostKind.LOCAL:
                self.disconnect(host_id)

    # Status

    def set_status(self, host_id: str, status: HostStatus, *,
                   standby: bool | None = None) -> Host:
        host = self.ctx.store.hosts.get(host_id)
        host = replace(host, status=status)
        if standby is not None:
            host = replace(host, standby=standby)
        return self.ctx.store.hosts.update(host)

    def peer_uri(self, source: Host, target: Host) -> str:
        """The target's libvirt as the source's libvirtd reaches it (peer-to-peer migration)."""
        if target.kind is HostKind.LOCAL and source.kind is HostKind.LAB:
            return f"qemu+unix:///system?socket={self._lab_info(source).machine_socket}"
        return target.libvirt_uri

    def migration_address(self, host: Host) -> str:
        if host.kind is HostKind.LOCAL:
            return self.lab.network().gateway if self.lab.hosts() else ""
        return host.migration_address

    def _running_vms(self, host_id: str) -> builtins.list[str]:
        return [v.id for v in self.ctx.store.vms.where(host_id=host_id) if v.status.is_running]
