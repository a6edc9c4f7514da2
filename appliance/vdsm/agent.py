"""The host agent for the libvirtd this process reaches: ``LocalHostAgent`` does what the
engine may ask of a host (``agent_interface.HostAgent``).

The engine sends host-neutral requests (``LaunchRequest``: ids, sizes, devices by storage
domain and network name); the agent turns them into libvirt XML with what only the host
knows (KVM or TCG, which bridge a network is, where consoles live, where a storage domain is
mounted: ``domain_specs``). Storage is named by ids (``storage_interface``); the paths stay
here.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import libvirt

from appliance.errors import HostAgentError, NotFound, NotSupported
from appliance.vdsm import domxml, ksm, serial, stats
from appliance.vdsm import migration as vdsm_migration
from appliance.vdsm import networks as vdsm_networks
from appliance.vdsm.agent_interface import (
    DomainInfo,
    DomainState,
    LaunchRequest,
    LifecycleHandler,
)
from appliance.vdsm.agent_settings import AgentSettings
from appliance.vdsm.backup import LiveBackups
from appliance.vdsm.backup_interface import BackupStart, BackupStarted, CheckpointRecord
from appliance.vdsm.connection import LibvirtConnection
from appliance.vdsm.displays import Displays, GraphicsInfo
from appliance.vdsm.domain_specs import HostSide, domain_spec
from appliance.vdsm.host import HostFacts, facts, start_with_fallback
from appliance.vdsm.imageio.control import TicketStatus
from appliance.vdsm.imageio.transfers import HostTransfers, TransferEndpoint, TransferOpen
from appliance.vdsm.storage import live
from appliance.vdsm.storage.repository import Repository
from appliance.vdsm.storage_interface import (
    DomainStats,
    ForeignImage,
    LiveLayer,
    Progress,
    Readable,
    Sparsified,
    StorageConnection,
    VolumeId,
    VolumeInfo,
)

log = logging.getLogger(__name__)


class LocalHostAgent:
    """The agent for the libvirtd this process can reach (``qemu:///system`` on the stick)."""

    def __init__(self, *, host_id: str, uri: str, settings: AgentSettings,
                 on_lifecycle: LifecycleHandler, on_reconnect: Callable[[], None],
                 transfers: HostTransfers | None = None) -> None:
        self.host_id = host_id
        self.settings = settings
        self._transfers = transfers
        self._on_lifecycle = on_lifecycle
        self._displays = Displays(host_id, conn=lambda: self.connection.conn,
                                  domain=self._domain, domain_prefix=settings.domain_prefix)
        self.connection = LibvirtConnection(uri, on_lifecycle=self._lifecycle,
                                            on_graphics=self._displays.passwords.on_graphics,
                                            on_reconnect=on_reconnect)
        self.storage = Repository(host_id)
        self._backups = LiveBackups(root=settings.backups, system_instance="/system" in uri)
        settings.run_dir.mkdir(parents=True, exist_ok=True)
        settings.run_dir.chmod(0o755)

    def open(self) -> None:
        self.connection.open()

    def close(self) -> None:
        self.connection.close()

    def facts(self, *, with_uuid: bool = True) -> HostFacts:
        return facts(self.connection.conn, virt_type=self.settings.current_virt_type(),
                     with_uuid=with_uuid)

    def domains(self) -> list[DomainInfo]:
        found = []
        for dom in self.connection.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
            try:
                metadata = domxml.parse_metadata(dom.XMLDesc(0))
                state, reason = dom.state()
            except libvirt.libvirtError:
                continue  # gone meanwhile
            ours = metadata is not None and metadata[0] == self.settings.appliance_id
            if not ours and not dom.name().startswith(self.settings.domain_prefix):
                continue
            found.append(DomainInfo(dom.name(), dom.UUIDString(),
                                    DomainState.from_libvirt(state), ours, reason))
        return found

    def statistics(self) -> stats.AgentSample:
        """The host's counters and every running domain's, in one libvirt call."""
        return stats.sample(self.connection.conn, self.settings.host_probe,
                            prefix=self.settings.domain_prefix)

    def domain_state(self, vm_id: str) -> DomainState | None:
        """The domain's state now, or None when it does not exist (a stopped transient one)."""
        try:
            return DomainState.from_libvirt(
                self.connection.conn.lookupByUUIDString(vm_id).state()[0])
        except libvirt.libvirtError:
            return None

    def launch(self, request: LaunchRequest) -> None:
        if self.settings.verdict is not None:
            self.settings.verdict.wait_settled()  # the KVM probe may still be running
        spec = self._domain_spec(request)
        try:
            if request.restore_from is not None:
                conn = self.connection.conn
                saved_ram = str(self.storage.volume_path(request.restore_from))
                saved = conn.saveImageGetXMLDesc(saved_ram, 0)
                conn.restoreFlags(saved_ram,
                                  live.retarget_disks(saved, [d.path for d in spec.disks]),
                                  libvirt.VIR_DOMAIN_SAVE_RUNNING)
                return
            conn = self.connection.conn
            start_with_fallback(
                lambda virt_type: conn.createXML(replace(spec, virt_type=virt_type).to_xml(), 0),
                virt_type=spec.virt_type, verdict=self.settings.verdict, vm=request.name)
        except libvirt.libvirtError as exc:
            raise HostAgentError(f"libvirt could not start VM {request.name}: "
                                 f"{exc.get_error_message()}") from None

    def domain_spec(self, request: LaunchRequest) -> domxml.DomainSpec:
        return self._domain_spec(request)

    def shutdown(self, vm_id: str) -> None:
        self._call(vm_id, "shut down", lambda d: d.shutdown())

    def power_off(self, vm_id: str) -> None:
        self._call(vm_id, "power off", lambda d: d.destroy())

    def reboot(self, vm_id: str) -> None:
        self._call(vm_id, "reboot", lambda d: d.reboot(0))

    def reset(self, vm_id: str) -> None:
        self._call(vm_id, "reset", lambda d: d.reset(0))

    def pause(self, vm_id: str) -> None:
        self._call(vm_id, "pause", lambda d: d.suspend())

    def resume(self, vm_id: str) -> None:
        self._call(vm_id, "resume", lambda d: d.resume())

    def save_state(self, vm_id: str, target: VolumeId) -> None:
        """Suspend to disk: libvirt writes the guest's RAM and device state into ``target``
        and the domain ends; ``launch`` with ``restore_from`` brings it back."""
        path = self.storage.new_file(target).path
        self._call(vm_id, "save the state of", lambda dom: dom.save(str(path)))

    def console_paths(self, vm_id: str) -> tuple[Path, Path]:
        return (self.settings.run_dir / f"{vm_id}.sock", self.settings.run_dir / f"{vm_id}.log")

    def open_serial(self, vm_id: str) -> socket.socket:
        """A connection to the running VM's serial console (QEMU serves one at a time)."""
        return serial.connect(self.console_paths(vm_id)[0])

    def serial_backlog(self, vm_id: str, *, limit: int) -> bytes:
        """What the VM printed on its serial console lately (at most ``limit`` bytes)."""
        return serial.log_tail(self.console_paths(vm_id)[1], limit=limit)

    # Live migration (peer to peer: this host's libvirtd talks to the target's)

    def migrate(self, vm_id: str, *, peer_uri: str, migrate_uri: str,
                bandwidth_mib: int = 0) -> None:
        vdsm_migration.migrate(self.connection.conn, vm_id, peer_uri=peer_uri,
                               migrate_uri=migrate_uri, bandwidth_mib=bandwidth_mib)

    def migration_progress(self, vm_id: str) -> vdsm_migration.MigrationProgress | None:
        return vdsm_migration.progress(self.connection.conn, vm_id)

    def abort_migration(self, vm_id: str) -> None:
        vdsm_migration.abort(self.connection.conn, vm_id)

    def last_migration_downtime_ms(self, vm_id: str) -> int:
        return vdsm_migration.last_downtime_ms(self.connection.conn, vm_id)

    @property
    def reachable(self) -> bool:
        """The engine holds a live connection to the host's libvirtd."""
        return self.connection.connected

    def networks(self) -> frozenset[str]:
        """The logical networks this host maps by name (ovirtmgmt)."""
        return frozenset(self.settings.network_attachments)

    def carries_untagged_networks(self) -> bool:
        """Whether every other network without a VLAN can reach VMs here."""
        return self.settings.other_networks is not vdsm_networks.OtherNetworks.NONE

    def prepare_networks(self, needs: tuple[vdsm_networks.NetworkNeed, ...]) -> None:
        """What a VM arriving by migration needs here, made before it comes."""
        for need in needs:
            self._attachment(need)

    def forget_network(self, name: str) -> None:
        if self.settings.other_networks is vdsm_networks.OtherNetworks.ISOLATED:
            vdsm_networks.forget(self.connection.conn, self.settings.domain_prefix, name)

    def cpu_time_ns(self) -> int:
        """CPU time used so far by the running VMs of this appliance (for load figures)."""
        total = 0
        try:
            domains = self.connection.conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        except libvirt.libvirtError as exc:
            raise HostAgentError(f"host {self.host_id}: {exc.get_error_message()}") from None
        for dom in domains:
            if not dom.name().startswith(self.settings.domain_prefix):
                continue
            try:
                total += int(dom.info()[4])
            except libvirt.libvirtError:
                continue  # gone meanwhile
        return total

    def ksm_tuning(self) -> ksm.KsmTuning | None:
        """The kernel's KSM settings (shared by every lab host of this machine)."""
        return ksm.read_tuning(self.settings.host_probe.sys)

    def tune_ksm(self, tuning: ksm.KsmTuning) -> None:
        ksm.apply_tuning(self.settings.host_probe.sys, tuning)

    def graphics(self, vm_id: str) -> tuple[GraphicsInfo, ...]:
        return self._displays.listening(self._domain(vm_id))

    def set_graphics_password(self, vm_id: str, *, protocol: str, password: str,
                              valid_until: float) -> None:
        self._displays.set_password(self._domain(vm_id), protocol=protocol,
                                    password=password, valid_until=valid_until)

    # Storage: the domains are directories every host of the lab reaches (see ``Repository``)

    def connect_storage_domain(self, connection: StorageConnection) -> None:
        self.storage.connect(connection)

    def disconnect_storage_domain(self, storage_domain_id: str) -> None:
        self.storage.disconnect(storage_domain_id)

    def storage_stats(self, storage_domain_id: str) -> DomainStats:
        return self.storage.stats(storage_domain_id)

    def storage_volumes(self, storage_domain_id: str) -> frozenset[VolumeId]:
        return self.storage.volumes(storage_domain_id)

    def delete_image(self, *, storage_domain_id: str, image_id: str) -> None:
        self.storage.delete_image(storage_domain_id=storage_domain_id, image_id=image_id)

    def create_volume(self, volume: VolumeId, *, size: int, fmt: str = "qcow2",
                      parent: VolumeId | None = None, parent_format: str = "") -> None:
        """``parent_format``: the parent volume's format (qcow2 or raw), needed with
        ``parent``: the host never probes it."""
        self.storage.create_volume(volume, size=size, fmt=fmt, parent=parent,
                                   parent_format=parent_format)

    def volume_info(self, volume: VolumeId, *, fmt: str) -> VolumeInfo:
        return self.storage.volume_info(volume, fmt=fmt)

    def allocated_size(self, volume: VolumeId) -> int:
        return self.storage.allocated(volume)

    def resize_volume(self, volume: VolumeId, *, size: int, fmt: str = "qcow2",
                      vm_id: str | None = None) -> None:
        """Grow a disk's top volume: through libvirt's block resize when ``vm_id`` runs
        here with the disk, with qemu-img otherwise."""
        if vm_id is None:
            self.storage.resize(volume, size=size, fmt=fmt)
        else:
            live.block_resize(self._domain(vm_id), self.storage.file(volume), size=size)

    def delete_volume(self, volume: VolumeId) -> None:
        self.storage.delete_volume(volume)

    def set_volume_read_only(self, volume: VolumeId, read_only: bool) -> None:
        self.storage.set_read_only(volume, read_only)

    def change_cdrom(self, vm_id: str, iso: VolumeId | None) -> None:
        """Put another ISO image in the running VM's CD-ROM drive (``None`` ejects)."""
        live.change_media(self._domain(vm_id),
                          self.storage.volume_path(iso) if iso is not None else None)

    def sparsify_volume(self, volume: VolumeId, *, fmt: str,
                        progress: Progress | None = None) -> Sparsified:
        """Free the volume's zeroed clusters; no QEMU may hold it (the engine checks)."""
        return self.storage.sparsify(volume, fmt=fmt, progress=progress)

    def snapshot_live(self, vm_id: str, layers: tuple[LiveLayer, ...], *,
                      memory: VolumeId | None) -> None:
        files = tuple(self.storage.layer_files(layer) for layer in layers)
        live.snapshot(self._domain(vm_id), files,
                      memory=self.storage.new_file(memory).path if memory is not None else None)

    def commit_volume(self, *, top: VolumeId, base: VolumeId, child: VolumeId | None,
                      vm_id: str | None) -> None:
        """Merge ``top`` into ``base``: by libvirt block commit when ``vm_id`` runs here,
        by qemu-img otherwise."""
        if vm_id is None:
            self.storage.commit_down(top=top, base=base, child=child)
        else:
            live.block_commit(self._domain(vm_id), top=self.storage.file(top),
                              base=self.storage.file(base), active=child is None)

    def collapse_volume(self, source: VolumeId, target: VolumeId, *, fmt: str = "qcow2",
                        source_format: str = "qcow2",
                        progress: Progress | None = None) -> None:
        self.storage.collapse(source, target, fmt=fmt, source_format=source_format,
                              progress=progress)

    def inspect_image(self, image: ForeignImage) -> VolumeInfo:
        return self.storage.inspect(image)

    def import_volume(self, image: ForeignImage, target: VolumeId, *,
                      max_virtual_size: int | None = None, staged: Progress | None = None,
                      progress: Progress | None = None) -> VolumeInfo:
        return self.storage.bring_in(image, target, max_virtual_size=max_virtual_size,
                                     staged=staged, progress=progress)

    def export_volume(self, source: VolumeId, target: Path, *, source_format: str = "qcow2",
                      progress: Progress | None = None) -> None:
        self.storage.export(source, target, source_format=source_format, progress=progress)

    def upload_volume(self, stream: Readable, target: VolumeId) -> int:
        return self.storage.receive(stream, target)

    # Image transfers: the machine's one ovirt-imageio daemon, on the local host only

    def open_image_transfer(self, request: TransferOpen) -> TransferEndpoint:
        if request.backup_id:  # a disk of a running backup: QEMU serves it already
            return self._image_transfers().open_export(request, url=self._backups.export_url(
                request.backup_id, request.volume.image_id))
        return self._image_transfers().open(request,
                                            path=self.storage.volume_path(request.volume))

    def image_transfer_status(self, ticket_id: str) -> TicketStatus | None:
        return self._image_transfers().status(ticket_id)

    def close_image_transfer(self, ticket_id: str, *, volume: VolumeId, commit: bool) -> None:
        self._image_transfers().close(ticket_id, path=self.storage.volume_path(volume),
                                      commit=commit)

    # Backups

    def start_backup(self, request: BackupStart) -> BackupStarted:
        paths = {d.image_id: self.storage.volume_path(d.volume) for d in request.disks}
        return self._backups.start(self._domain(request.vm_id), request, paths)

    def stop_backup(self, vm_id: str, backup_id: str, *,
                    checkpoint_ids: tuple[str, ...] = ()) -> None:
        """End a backup; the VM may have stopped meanwhile (its job ended with it)."""
        self._backups.stop(self._find_domain(vm_id), backup_id, checkpoint_ids)

    def backup_active(self, vm_id: str, backup_id: str) -> bool:
        dom = self._find_domain(vm_id)
        return dom is not None and self._backups.active(dom, backup_id)

    def remove_checkpoint(self, checkpoint: CheckpointRecord, *, vm_id: str | None,
                          chains: dict[str, tuple[VolumeId, ...]]) -> None:
        """Remove the checkpoint's bitmap from each disk's chain (image id -> its volumes):
        through the running VM ``vm_id`` when given."""
        paths = {image: [self.storage.volume_path(v) for v in volumes]
                 for image, volumes in chains.items()}
        dom = self._domain(vm_id) if vm_id is not None else None
        self._backups.remove_checkpoint(dom, checkpoint, paths)

    def _find_domain(self, vm_id: str) -> libvirt.virDomain | None:
        try:
            return self._domain(vm_id)
        except NotFound:
            return None

    def _image_transfers(self) -> HostTransfers:
        if self._transfers is None:
            raise NotSupported(f"host {self.host_id} does not serve image transfers; the "
                               "local host does")
        return self._transfers

    def _domain(self, vm_id: str) -> libvirt.virDomain:
        try:
            return self.connection.conn.lookupByUUIDString(vm_id)
        except libvirt.libvirtError:
            raise NotFound(f"VM {vm_id} is not running on host {self.host_id}") from None

    def _domain_spec(self, request: LaunchRequest) -> domxml.DomainSpec:
        host = HostSide(
            volume_path=self.storage.volume_path, attachment=self._attachment,
            consoles=self.console_paths(request.vm_id),
            graphics=lambda: self._displays.devices(request.graphics, vm=request.name,
                                                    password=request.console_password))
        return domain_spec(request, self.settings, host)

    def _attachment(self, need: vdsm_networks.NetworkNeed) -> str:
        """``bridge:X``, ``user`` or ``network:X`` (a libvirt network) for a NIC."""
        mapped = self.settings.network_attachments.get(need.name)
        if mapped is not None:
            return mapped
        others = self.settings.other_networks
        if need.vlan or others is vdsm_networks.OtherNetworks.NONE:
            raise HostAgentError(f"network '{need.name}' is not available on host "
                                 f"{self.host_id}")
        if others is vdsm_networks.OtherNetworks.USER:
            return "user"
        return "network:" + vdsm_networks.ensure_isolated(
            self.connection.conn, self.settings.domain_prefix, need)

    def _call(self, vm_id: str, verb: str, action: Callable[[libvirt.virDomain], object]) -> None:
        dom = self._domain(vm_id)
        try:
            action(dom)
        except libvirt.libvirtError as exc:
            raise HostAgentError(f"could not {verb} the VM: {exc.get_error_message()}") from None

    def _lifecycle(self, uuid: str, event: int, detail: int) -> None:
        self._on_lifecycle(self.host_id, uuid, event, detail)
