"""What a host is asked to run for a VM: its ``LaunchRequest`` from the store's rows (the
active disks by storage ids with their top volume's format, the plugged NICs by network
name, the ISO in its CD-ROM, a saved state to resume from)."""

from __future__ import annotations

from appliance.engine import chains, snapshot_memory, vm_settings
from appliance.engine.context import EngineContext
from appliance.engine.enums import DiskStatus
from appliance.engine.model import Host, Vm
from appliance.engine.snapshot_memory import memory_to_restore
from appliance.engine.store.schema import Store
from appliance.errors import InvalidState
from appliance.vdsm.agent_interface import LaunchDisk, LaunchNic, LaunchRequest


def launch_request(ctx: EngineContext, vm: Vm, host: Host) -> LaunchRequest:
    store = ctx.store
    disks = _disks(store, vm)
    nics = _nics(store, vm)
    iso = store.disks.find(vm.cdrom_file_id) if vm.cdrom_file_id else None
    saved = snapshot_memory.saved_state_of(ctx, vm)
    return LaunchRequest(vm_id=vm.id, name=vm.name, memory=vm.memory, vcpus=vm.vcpus,
                         disks=disks, nics=nics,
                         cdrom=chains.volume(iso) if iso else None,
                         restore_from=saved or memory_to_restore(store, vm.id),
                         boot=tuple(b.value for b in vm.boot),
                         graphics=tuple(g.value for g in vm.graphics),
                         serial_number=vm_settings.guest_serial(vm, host))


def _disks(store: Store, vm: Vm) -> tuple[LaunchDisk, ...]:
    """The active disks, the bootable ones first; a locked one refuses the start."""
    disks = []
    for attachment in store.attachments.where(vm_id=vm.id):
        if not attachment.active:
            continue
        disk = store.disks.get(attachment.disk_id)
        if disk.status is DiskStatus.LOCKED:
            raise InvalidState(f"VM '{vm.name}' cannot start: its disk '{disk.name}' is "
                               "locked (an image transfer or copy is running).")
        disks.append(LaunchDisk(
            storage_domain_id=disk.storage_domain_id, image_id=disk.id,
            volume_id=disk.volume_id, interface=attachment.interface.value,
            bootable=attachment.bootable, read_only=attachment.read_only,
            # The top's own format: a raw disk's top is a qcow2 layer once snapshotted.
            format=chains.volume_format(store, disk)))
    disks.sort(key=lambda d: not d.bootable)
    return tuple(disks)


def _nics(store: Store, vm: Vm) -> tuple[LaunchNic, ...]:
    nics = []
    for nic in store.nics.where(vm_id=vm.id):
        if not nic.plugged:
            continue
        if nic.vnic_profile_id is None:
            continue  # an empty profile: the NIC is unplugged from any network
        profile = store.vnic_profiles.get(nic.vnic_profile_id)
        network = store.networks.get(profile.network_id)
        nics.append(LaunchNic(mac=nic.mac, network=network.name,
                              model=nic.interface.value, linked=nic.linked,
                              vlan=network.vlan_id, mtu=network.mtu))
    return tuple(nics)
