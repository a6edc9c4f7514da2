"""The objects an example or a play expects to find, made through oVirt's SDK as a user
would make them before running it; and the reset that brings the service back to what it
had at the start (the demo template, the Default data center, cluster, network and the RAM
storage domain), so each client run starts from the same lab."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import ovirtsdk4 as sdk
import ovirtsdk4.types as types

from tests.clients.service import ClientService

MiB = 1024 * 1024
GiB = 1024 * MiB
STORAGE = "ram"
USER_PASSWORD = "user-" + secrets.token_hex(6)
GUEST_READY = "VIRTSTICK-GUEST-READY"  # what the demo guest prints once booted
T = TypeVar("T")


class PrepareError(AssertionError):
    """The service refused to make an object an example needs: the example fails with it."""


@dataclass
class Baseline:
    """Ids present at the start, per collection; everything else is removed on reset."""

    ids: dict[str, set[str]] = field(default_factory=dict)


# The collections a reset empties of what clients made, in removal order (VMs first: their
# disks, snapshots and permissions go with them; templates after the VMs made from them).
RESET_ORDER = ("vm_pools", "vms", "templates", "disks", "tags", "affinity_labels", "users",
               "groups", "roles", "instance_types", "mac_pools", "networks", "clusters",
               "data_centers")


class World:
    def __init__(self, service: ClientService, connection: sdk.Connection) -> None:
        self.service = service
        self.connection = connection
        self.system = connection.system_service()

    # -- making things ------------------------------------------------------------------
    def vm(self, name: str, *, template: str = "Blank", running: bool = False,
           memory: int = 256 * MiB, disk: bool = False, nic: bool = False) -> types.Vm:
        vms = self.system.vms_service()
        vm = _made(f"VM {name}", lambda: vms.add(types.Vm(
            name=name, cluster=types.Cluster(name="Default"),
            template=types.Template(name=template), memory=memory)))
        if disk:
            self.attach(vm, self.floating_disk(f"{name}_disk1", size=GiB), bootable=True)
        if nic:
            _made(f"a NIC of {name}", lambda: vms.vm_service(vm.id).nics_service().add(
                types.Nic(name="nic1", vnic_profile=types.VnicProfile(id=self._profile()))))
        self.wait_vm(vm.id, types.VmStatus.DOWN)
        if running:
            self.start(vm.id)
        return vms.vm_service(vm.id).get()

    def start(self, vm_id: str) -> None:
        service = self.system.vms_service().vm_service(vm_id)
        _made("a started VM", service.start)
        self.wait_vm(vm_id, types.VmStatus.UP)

    def wait_booted(self, vm_id: str, timeout: float = 180) -> None:
        """Until the demo guest says it is ready on its serial console (its power button
        handler runs from then on: a shutdown is heard)."""
        log = self.service.appliance.state_dir / "consoles" / f"{vm_id}.log"
        _wait(lambda: log.exists() and GUEST_READY in log.read_text(errors="replace"),
              timeout, f"the guest of VM {vm_id} to boot")

    def wait_vm(self, vm_id: str, status: types.VmStatus, timeout: float = 120) -> None:
        service = self.system.vms_service().vm_service(vm_id)
        _wait(lambda: service.get().status == status, timeout, f"VM {vm_id} {status.value}")

    def snapshot(self, vm: types.Vm, description: str) -> types.Snapshot:
        snapshots = self.system.vms_service().vm_service(vm.id).snapshots_service()
        snap = _made(f"snapshot {description}", lambda: snapshots.add(
            types.Snapshot(description=description, persist_memorystate=False)))
        _wait(lambda: snapshots.snapshot_service(snap.id).get().snapshot_status
              == types.SnapshotStatus.OK, 120, f"snapshot {description}")
        return snap

    def floating_disk(self, name: str, *, size: int = GiB,
                      description: str | None = None) -> types.Disk:
        disks = self.system.disks_service()
        disk = _made(f"disk {name}", lambda: disks.add(types.Disk(
            name=name, description=description, format=types.DiskFormat.COW,
            provisioned_size=size, storage_domains=[types.StorageDomain(name=STORAGE)])))
        _wait(lambda: disks.disk_service(disk.id).get().status == types.DiskStatus.OK, 60,
              f"disk {name}")
        return disk

    def attach(self, vm: types.Vm, disk: types.Disk, *, bootable: bool = False) -> None:
        attachments = self.system.vms_service().vm_service(vm.id).disk_attachments_service()
        _made(f"attachment of {disk.name}", lambda: attachments.add(types.DiskAttachment(
            disk=types.Disk(id=disk.id), interface=types.DiskInterface.VIRTIO,
            bootable=bootable, active=True)))

    def tag(self, name: str, *, vm: types.Vm | None = None) -> types.Tag:
        tag = _made(f"tag {name}", lambda: self.system.tags_service().add(
            types.Tag(name=name, description=f"{name} for the clients' tests")))
        if vm is not None:
            _made(f"tag {name} on {vm.name}", lambda: self.system.vms_service().vm_service(
                vm.id).tags_service().add(types.Tag(name=name)))
        return tag

    def affinity_label(self, name: str, *, vm: types.Vm | None = None) -> types.AffinityLabel:
        labels = self.system.affinity_labels_service()
        label = _made(f"affinity label {name}", lambda: labels.add(
            types.AffinityLabel(name=name)))
        if vm is not None:
            _made(f"label {name} on {vm.name}", lambda: labels.label_service(
                label.id).vms_service().add(types.Vm(id=vm.id)))
        return label

    def user(self, principal: str) -> types.User:
        """An internal user as oVirt names it (``principal@internal-authz``), with a password
        for the appliance's own login."""
        return _made(f"user {principal}", lambda: self.system.users_service().add(types.User(
            user_name=f"{principal}@internal-authz", principal=principal,
            domain=types.Domain(name="internal-authz"), password=USER_PASSWORD)))

    def network(self, name: str) -> types.Network:
        return _made(f"network {name}", lambda: self.system.networks_service().add(
            types.Network(name=name, data_center=types.DataCenter(name="Default"))))

    def cluster(self, name: str) -> types.Cluster:
        return _made(f"cluster {name}", lambda: self.system.clusters_service().add(
            types.Cluster(name=name, data_center=types.DataCenter(name="Default"),
                          cpu=types.Cpu(architecture=types.Architecture.X86_64))))

    def template(self, name: str, vm: types.Vm, *,
                 base: types.Template | None = None) -> types.Template:
        templates = self.system.templates_service()
        version = types.TemplateVersion(base_template=base) if base is not None else None
        template = _made(f"template {name}", lambda: templates.add(types.Template(
            name=name, vm=types.Vm(id=vm.id), version=version)))
        _wait(lambda: templates.template_service(template.id).get().status
              == types.TemplateStatus.OK, 180, f"template {name}")
        return templates.template_service(template.id).get()

    def lab_host(self, name: str) -> str:
        """A lab host on this machine (the SDK cannot say <type>lab</type>: plain HTTP)."""
        reply = self.service.appliance.request(
            "POST", "/ovirt-engine/api/hosts",
            f"<host><name>{name}</name><type>lab</type><memory>{512 * MiB}</memory></host>",
            basic=("admin@internal", self.service.password))
        if reply.status not in (200, 201):
            raise PrepareError(f"adding lab host {name}: {reply.status} {reply.text[:300]}")
        hosts = self.system.hosts_service()
        host = hosts.list(search=f"name={name}")[0]
        _wait(lambda: hosts.host_service(host.id).get().status == types.HostStatus.UP, 120,
              f"lab host {name} up")
        return str(host.id)

    def demo_disk_of(self, vm: types.Vm) -> types.Disk:
        attachments = self.system.vms_service().vm_service(vm.id).disk_attachments_service()
        return self.system.disks_service().disk_service(attachments.list()[0].disk.id).get()

    def _profile(self) -> str:
        return str(next(p.id for p in self.system.vnic_profiles_service().list()
                        if p.name == "ovirtmgmt"))

    # -- back to the start --------------------------------------------------------------
    def baseline(self) -> Baseline:
        return Baseline({name: {str(o.id) for o in self._list(name)} for name in RESET_ORDER})

    def reset(self, baseline: Baseline) -> list[str]:
        """Remove what clients made; say what could not be removed."""
        self._hosts_back()
        self._clusters_back()
        left: list[str] = []
        for name in RESET_ORDER:
            for obj in self._list(name):
                if str(obj.id) in baseline.ids.get(name, set()):
                    continue
                if name == "networks" and getattr(obj, "name", "") == "ovirtmgmt":
                    continue  # a data center's management network goes with it
                try:
                    self._remove(name, obj)
                except sdk.Error as exc:
                    left.append(f"{name} {getattr(obj, 'name', obj.id)}: {exc}")
        return left

    def _list(self, name: str) -> list[types.Identified]:
        try:
            found = list(getattr(self.system, f"{name}_service")().list())
        except sdk.Error:
            return []  # a collection the service does not have yet holds nothing to remove
        if name == "templates":  # a template's newer versions go before it
            found.sort(key=lambda t: -(t.version.version_number or 0) if t.version else 0)
        return found

    def _remove(self, name: str, obj: types.Identified) -> None:
        collection = getattr(self.system, f"{name}_service")()
        single = getattr(collection, f"{_singular(name)}_service")(obj.id)
        if name == "vms":
            vm = single.get()
            if vm.status != types.VmStatus.DOWN:
                with contextlib.suppress(sdk.Error):
                    single.stop(force=True)
                _wait(lambda: single.get().status == types.VmStatus.DOWN, 60, "VM down")
        single.remove()
        with contextlib.suppress(AssertionError):
            _wait(lambda: _gone(single), 60, f"{name} {obj.id} removed")

    def _clusters_back(self) -> None:
        """Clusters take their MAC addresses from the Default pool again (a pool a cluster
        uses cannot be removed)."""
        pools = self.system.mac_pools_service().list()
        default = next((p for p in pools if p.default_pool), None)
        if default is None:
            return
        clusters = self.system.clusters_service()
        for cluster in clusters.list():
            if cluster.mac_pool is not None and cluster.mac_pool.id != default.id:
                with contextlib.suppress(sdk.Error):
                    clusters.cluster_service(cluster.id).update(
                        types.Cluster(mac_pool=types.MacPool(id=default.id)))

    def _hosts_back(self) -> None:
        """Lab hosts go; the appliance's own host and storage are active again."""
        hosts = self.system.hosts_service()
        for host in hosts.list():
            service = hosts.host_service(host.id)
            if host.name != self.service.host_name:
                with contextlib.suppress(sdk.Error):
                    if host.status != types.HostStatus.MAINTENANCE:
                        service.deactivate()
                        _wait_host(service, types.HostStatus.MAINTENANCE, 120)
                    service.remove()
            elif host.status != types.HostStatus.UP:
                with contextlib.suppress(sdk.Error):
                    service.activate()
                    _wait_host(service, types.HostStatus.UP, 60)
        dcs = self.system.data_centers_service()
        for dc in dcs.list():
            attached = dcs.data_center_service(dc.id).storage_domains_service()
            for domain in attached.list():
                if domain.status != types.StorageDomainStatus.ACTIVE:
                    with contextlib.suppress(sdk.Error):
                        attached.storage_domain_service(domain.id).activate()


_SINGULAR = {"vm_pools": "pool", "vms": "vm", "templates": "template", "disks": "disk",
             "tags": "tag", "affinity_labels": "label", "users": "user", "groups": "group",
             "roles": "role", "instance_types": "instance_type", "mac_pools": "mac_pool",
             "networks": "network", "clusters": "cluster", "data_centers": "data_center"}


def _singular(name: str) -> str:
    return _SINGULAR[name]


class _Readable(Protocol):
    """Any of the SDK's services of one object."""

    def get(self) -> object: ...


def _gone(service: _Readable) -> bool:
    try:
        service.get()
    except sdk.NotFoundError:
        return True
    return False


def _made(what: str, make: Callable[[], T]) -> T:
    try:
        return make()
    except sdk.Error as exc:
        raise PrepareError(f"preparing {what}: {exc}") from None


def _wait_host(service: Any, status: types.HostStatus, timeout: float) -> None:
    _wait(lambda: service.get().status == status, timeout, f"host {status.value}")


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise PrepareError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.5)
