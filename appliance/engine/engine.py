"""The engine as one object: builds the services over one store and connects the local host.

``Engine(config).start()`` reads as its steps: open the store, make the defaults, connect the
local host, reconcile with what runs, import the demo template.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from appliance.config import Config, VirtType
from appliance.engine import bootstrap
from appliance.engine.affinity_groups import AffinityGroups
from appliance.engine.affinity_labels import AffinityLabels
from appliance.engine.audit import AuditLog
from appliance.engine.authz import SYSTEM
from appliance.engine.backups.checkpoints import VmCheckpoints
from appliance.engine.backups.service import VmBackups
from appliance.engine.changes import ChangeFeed
from appliance.engine.clock import Clock, SystemClock
from appliance.engine.clusters import Clusters
from appliance.engine.consoles import Consoles
from appliance.engine.context import EngineContext, Hosts, Locks
from appliance.engine.datacenter_quotas import DataCenterQuotas
from appliance.engine.datacenters import DataCenters
from appliance.engine.disk_copies import DiskCopies
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.events import EventLog, VisibleEvents
from appliance.engine.external_jobs import ExternalJobs
from appliance.engine.grants import ObjectType
from appliance.engine.groups import Groups
from appliance.engine.ha import HighAvailability
from appliance.engine.host_maintenance import HostMaintenance
from appliance.engine.hosts import HostService
from appliance.engine.imports.pipeline import SystemImporter
from appliance.engine.instance_types import InstanceTypes
from appliance.engine.inventory import Inventory
from appliance.engine.isos import Isos
from appliance.engine.jobs import JobContext, Jobs
from appliance.engine.joining import HostJoining
from appliance.engine.ksm import KsmManager
from appliance.engine.live import LiveUpdates
from appliance.engine.mac_pools import MacPools
from appliance.engine.maintenance import Maintenance
from appliance.engine.migration import Migrations
from appliance.engine.model import MiB
from appliance.engine.monitoring import Monitor
from appliance.engine.networks import Networks, VnicProfiles
from appliance.engine.nic_updates import NicUpdates
from appliance.engine.ova.configuration import OvfConfigurations
from appliance.engine.ova.exporter import OvaExporter
from appliance.engine.ova.importer import OvaImporter
from appliance.engine.placement import Placement
from appliance.engine.pools import VmPools
from appliance.engine.reconcile import Reconciler
from appliance.engine.roles import Roles
from appliance.engine.scheduling.balancer import Balancer
from appliance.engine.snapshots import Snapshots
from appliance.engine.sparsify import DiskSparsify
from appliance.engine.ssh_keys import SshKeys
from appliance.engine.storage import Disks, StorageDomains
from appliance.engine.store import Database
from appliance.engine.store.schema import Store
from appliance.engine.suspension import Suspensions
from appliance.engine.tags import Tags
from appliance.engine.template_builder import TemplateBuilder
from appliance.engine.templates import Templates
from appliance.engine.thin import ThinProvisioning
from appliance.engine.transfers.disk_snapshots import DiskSnapshots
from appliance.engine.transfers.monitor import TransferMonitor
from appliance.engine.transfers.service import ImageTransfers
from appliance.engine.transfers.uploads import DiskUploads
from appliance.engine.users import Users
from appliance.engine.v2v.service import V2v
from appliance.engine.vm_clones import VmClones
from appliance.engine.vm_disks import VmDisks
from appliance.engine.vm_provisioning import VmProvisioning
from appliance.engine.vm_updates import VmUpdates
from appliance.engine.vms import Vms
from appliance.errors import ConfigError
from appliance.security import certificates
from appliance.startup import StartupClock
from appliance.vdsm.agent import LocalHostAgent
from appliance.vdsm.agent_settings import AgentSettings
from appliance.vdsm.host import VirtVerdict, probe_in_background, quick_virt_type
from appliance.vdsm.imageio.config import ImageioSettings
from appliance.vdsm.imageio.daemon import ImageioDaemon
from appliance.vdsm.imageio.transfers import HostTransfers
from appliance.vdsm.networks import OtherNetworks

log = logging.getLogger(__name__)

DEMO_TEMPLATE = "Demo"


class Engine:
    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        self.config = config
        self._db = Database(config.database_path)
        self._store = Store(self._db)
        events = EventLog(self._db)
        jobs = Jobs(self._store.jobs, events)
        self.ctx = EngineContext(config=config, store=self._store, events=events, jobs=jobs,
                                 hosts=Hosts(), locks=Locks(),
                                 appliance_id=bootstrap.appliance_id(self._store),
                                 audit=AuditLog(self._db, jobs), clock=clock or SystemClock())
        self.events = events
        self.audit = self.ctx.audit
        self.jobs = self.ctx.jobs
        self.external_jobs = ExternalJobs(self.ctx)
        self.placement = Placement(self.ctx)
        self.storage_domains = StorageDomains(self.ctx)
        self.disks = Disks(self.ctx, self.storage_domains)
        self.disk_sparsify = DiskSparsify(self.ctx)
        self.vms = Vms(self.ctx, self.disks, self.placement)
        self.datacenters = DataCenters(self.ctx)
        self.quotas = DataCenterQuotas(self.ctx)
        self.mac_pools = MacPools(self.ctx)
        self.instance_types = InstanceTypes(self.ctx)
        self.networks = Networks(self.ctx)
        self.vnic_profiles = VnicProfiles(self.ctx)
        self.visible_events = VisibleEvents(self.ctx)
        self.templates = Templates(self.ctx, self.storage_domains)
        self.snapshots = Snapshots(self.ctx, self.storage_domains)
        self.disk_copies = DiskCopies(self.ctx, self.storage_domains)
        self.template_builder = TemplateBuilder(self.ctx, self.disk_copies)
        self.ova_exporter = OvaExporter(self.ctx)
        self.ova_configurations = OvfConfigurations(self.ctx)
        imports = SystemImporter(self.ctx, self.storage_domains, self.disk_copies)
        self.importer = OvaImporter(imports)  # OVAs
        self.v2v = V2v(imports)  # VMware and Xen guests
        self.isos = Isos(self.ctx, self.storage_domains, self.disk_copies)
        self.vm_clones = VmClones(self.ctx, self.disk_copies)
        self.suspensions = Suspensions(self.ctx, self.vms, self.storage_domains)
        self.thin = ThinProvisioning(self.ctx, self.storage_domains, self.disks, self.vms)
        self.reconciler = Reconciler(self.ctx, self.vms)
        self.roles = Roles(self.ctx)
        self.groups = Groups(self.ctx)
        self.users = Users(self.ctx, roles=self.roles, groups=self.groups)
        self.ssh_keys = SshKeys(self.ctx,
                                user_exists=lambda user_id: self.users.find_user(user_id)
                                is not None)
        self.users.on_remove.append(self.ssh_keys.forget_user)
        self.maintenance = Maintenance(self.ctx)
        self.consoles = Consoles(self.ctx, self.vms)
        self.backups = VmBackups(self.ctx, self.vms)
        self.checkpoints = VmCheckpoints(self.ctx, self.vms)
        self.vm_updates = VmUpdates(self.ctx, self.vms, self.placement)
        self.nic_updates = NicUpdates(self.ctx, self.vms)
        self.vm_disks = VmDisks(self.ctx, vms=self.vms, disks=self.disks,
                                domains=self.storage_domains)
        self.image_transfers = ImageTransfers(
            self.ctx, local_host_id=lambda: bootstrap.local_host_id(self._store))
        self.disk_snapshots = DiskSnapshots(self.ctx)
        self.disk_uploads = DiskUploads(self.ctx, self.disks, self.image_transfers)
        self._transfer_monitor = TransferMonitor(self.ctx, self.image_transfers)
        self._host_transfers: HostTransfers | None = None
        self.local_agent: LocalHostAgent | None = None
        self._settings: AgentSettings | None = None
        self._many_hosts()
        self.monitor = Monitor(self.ctx, self.storage_domains)
        self.live = LiveUpdates(self.ctx, self._change_feed())
        self.ksm = KsmManager(self.ctx, self.monitor)
        self.inventory = Inventory(self.ctx, vms=self.vms, snapshots=self.snapshots,
                                   isos=self.isos, domains=self.storage_domains,
                                   monitor=self.monitor)

    @property
    def appliance_id(self) -> str:
        """This appliance's id, fixed at first start (oVirt's ``product_info`` instance)."""
        return self.ctx.appliance_id

    def _change_feed(self) -> ChangeFeed:
        """What the portals show live: VM, host and job records as they are written, events
        as they are recorded, statistics rounds as they are taken."""
        feed = ChangeFeed()
        self._store.vms.watch(feed.vm_changed)
        self._store.hosts.watch(feed.host_changed)
        self._store.jobs.watch(feed.job_changed)
        self.events.watch(feed.event_recorded)
        self.monitor.watch(feed.sampled)
        return feed

    def _many_hosts(self) -> None:
        """Other hosts, migration, HA, balancing, power saving and maintenance."""
        self.hosts = HostService(self.ctx, vms=self.vms, settings=self.agent_settings,
                                 storage=self.storage_domains,
                                 on_lifecycle=self.reconciler.on_lifecycle,
                                 on_reconnect=self.reconciler.host)
        self.migrations = Migrations(self.ctx, vms=self.vms, hosts=self.hosts,
                                     scheduler=self.placement.scheduler)
        self.host_maintenance = HostMaintenance(self.ctx, vms=self.vms, hosts=self.hosts,
                                                migrations=self.migrations)
        self.ha = HighAvailability(self.ctx, vms=self.vms, hosts=self.hosts)
        self.balancer = Balancer(self.ctx, scheduler=self.placement.scheduler,
                                 migrations=self.migrations, hosts=self.hosts)
        self.placement.wake_standby = self.balancer.wake
        self.clusters = Clusters(self.ctx, on_policy_change=self.balancer.poke)
        self.affinity_groups = AffinityGroups(self.ctx)
        self.tags = Tags(self.ctx)
        self.affinity_labels = AffinityLabels(self.ctx)
        self.joining = HostJoining(self.ctx, hosts=self.hosts)
        self.vm_pools = VmPools(self.ctx, vms=self.vms, disks=self.disks, users=self.users)
        self.users.grants.add_objects({ObjectType.VM_POOL: self.vm_pools.find})
        self.vm_provisioning = VmProvisioning(
            self.ctx, vms=self.vms, disks=self.disks, isos=self.isos, clusters=self.clusters,
            domains=self.storage_domains, copies=self.disk_copies)

    def start(self, clock: StartupClock | None = None) -> None:
        """Start in named steps, each timed in the log when a clock is given."""
        for name, step in self._start_steps():
            if clock is None:
                step()
            else:
                with clock.phase(f"engine: {name}"):
                    step()

    def _start_steps(self) -> list[tuple[str, Callable[[], object]]]:
        return [
            ("unfinished jobs", self._abort_unfinished),
            ("defaults", lambda: bootstrap.ensure_defaults(self._store, self.config)),
            ("reconciler", self.reconciler.start),
            ("image server", self._start_image_server),
            ("local host", self._connect_local_host),
            ("local host facts", self._register_local_host),
            ("other hosts", self.hosts.reconnect_all),
            ("reconcile", self.reconciler.all),
            ("transfers", self._resume_transfers),
            ("demo template", self._import_demo_template),
            ("monitors", self._start_monitors),
            ("KVM probe", self._probe_kvm),
        ]

    def _abort_unfinished(self) -> None:
        self.jobs.abort_unfinished()
        self.audit.abort_unfinished()

    def _probe_kvm(self) -> None:
        """Whether KVM really boots guests here is found out in the background: the API
        serves meanwhile, VM starts wait for the answer (up to half a minute, once per boot)."""
        verdict = self.agent_settings().verdict
        if verdict is None:
            return
        demo = Path(self.config.appliance.demo_disk) if self.config.appliance.demo_disk else None
        probe_in_background(verdict, libvirt_uri=self.config.appliance.libvirt_uri,
                            cache_dir=self.config.appliance.runtime_dir,
                            disk=demo if demo is not None and demo.is_file() else None)

    def _resume_transfers(self) -> None:
        self.image_transfers.abandon_all("the service restarted during the transfer")
        self.backups.abandon_all("the service restarted during the backup")
        self._transfer_monitor.start()

    def _start_monitors(self) -> None:
        self.ha.start()
        self.balancer.start()
        self.monitor.start()
        self.ksm.start()
        self.thin.start()
        self.vm_pools.resume()

    def stop(self) -> None:
        """Stop the engine; lab hosts keep running, as other machines' hosts would."""
        self.thin.stop()
        self._transfer_monitor.stop()
        self.image_transfers.abandon_all("the service stopped during the transfer")
        if self._host_transfers is not None:
            self._host_transfers.stop()
        self.ksm.stop()
        self.monitor.stop()
        self.balancer.stop()
        self.ha.stop()
        self.jobs.shutdown()
        self.hosts.close()
        if self.local_agent is not None:
            self.local_agent.close()
        self.reconciler.stop()
        self._db.close()

    def agent_settings(self) -> AgentSettings:
        """What every host's agent is made with (lab hosts share the machine's choices)."""
        if self._settings is None:
            config = self.config
            runtime = config.appliance.runtime_dir
            virt_type, settled = quick_virt_type(config.appliance.virt_type, cache_dir=runtime)
            verdict = None
            if config.appliance.virt_type is VirtType.AUTO:
                verdict = VirtVerdict(virt_type, cache_dir=runtime,
                                      on_fallback=self._kvm_fell_back, settled=settled)
            self._settings = AgentSettings(
                appliance_id=self.ctx.appliance_id,
                run_dir=config.appliance.state_dir / "consoles",
                backup_dir=config.appliance.state_dir / "backups",
                virt_type=virt_type,
                verdict=verdict,
                domain_prefix=config.appliance.domain_prefix,
                network_attachments={bootstrap.MANAGEMENT_NETWORK: config.network.ovirtmgmt},
                other_networks=OtherNetworks(config.network.other_networks),
            )
        return self._settings

    def _kvm_fell_back(self, vm: str, reason: str) -> None:
        if vm:
            text = (f"VM {vm} could not start under KVM ({reason}); it was started under TCG "
                    "(emulation, slower), as every VM will be until the next boot.")
        else:
            text = (f"KVM does not run guests on this machine ({reason}): VMs run under TCG "
                    "(emulation, slower) until the next boot.")
        self.ctx.events.record(EventCode.KVM_FALLBACK, text, severity=EventSeverity.WARNING)
        for host in self._store.hosts.all():  # the verdict is the machine's, for all its hosts
            if host.virt_type is VirtType.KVM:
                self._store.hosts.update(replace(host, virt_type=VirtType.QEMU))

    def _connect_local_host(self) -> None:
        config = self.config
        host_id = bootstrap.local_host_id(self._store)
        agent = LocalHostAgent(
            host_id=host_id, uri=config.appliance.libvirt_uri, settings=self.agent_settings(),
            on_lifecycle=self.reconciler.on_lifecycle,
            on_reconnect=lambda: self.reconciler.host(host_id),
            transfers=self._host_transfers)
        agent.open()
        self.storage_domains.connect_host(agent)
        self.local_agent = agent
        self.ctx.hosts.agents[host_id] = agent

    def _register_local_host(self) -> None:
        assert self.local_agent is not None
        # This machine's UUID is not kept, and asking for it could wait on libvirtd's first
        # look at QEMU: the API would wait with it.
        bootstrap.register_local_host(self._store, self.local_agent.facts(with_uuid=False),
                                      uri=self.config.appliance.libvirt_uri)

    def _start_image_server(self) -> None:
        self._host_transfers = self._image_server()

    def _image_server(self) -> HostTransfers:
        """ovirt-imageio for this machine's image transfers, with the appliance's
        certificate (the same names as the HTTPS listener's)."""
        config = self.config
        host, _, port = config.imageio.listen.rpartition(":")
        if not port.isdigit() or int(port) > 65535:
            raise ConfigError(f"[imageio] listen = '{config.imageio.listen}' is not HOST:PORT "
                              "(for example 0.0.0.0:54322, or port 0 for any free one).")
        https_host = config.http.https_listen.rpartition(":")[0].strip("[]")
        settings = ImageioSettings(
            run_dir=config.appliance.state_dir / "imageio", host=host.strip("[]") or "0.0.0.0",
            port=int(port), certificates=certificates.ensure(
                config.appliance.state_dir, names=(https_host,) if https_host else ()))
        transfers = HostTransfers(ImageioDaemon(settings))
        transfers.start()
        return transfers

    def _import_demo_template(self) -> None:
        source = self.config.appliance.demo_disk
        if not source or not Path(source).is_file():
            return
        if self._store.templates.by_name(DEMO_TEMPLATE) is not None:
            return
        domain = self._store.storage_domains.get_by_name(bootstrap.RAM_DOMAIN)
        profile = self._store.vnic_profiles.by_name(bootstrap.MANAGEMENT_NETWORK)

        def work(_job: JobContext) -> None:
            self.templates.import_disk_image(
                Path(source), name=DEMO_TEMPLATE, domain=domain, actor=SYSTEM,
                memory=256 * MiB, vnic_profile_id=profile.id if profile else None,
                description="A tiny Linux guest that boots in seconds")

        self.jobs.run("Importing the demo template", work, owner=SYSTEM.name)


__all__ = ["DEMO_TEMPLATE", "Engine"]
