"""Changing a VM's NIC (oVirt's ``PUT /vms/{id}/nics/{id}``): its name at any time; its MAC
(from the cluster's MAC pool rules), model, profile and link state while the VM is down,
as QEMU takes them at start (a running VM's NIC is not re-plugged)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from appliance.engine import mac_pools, validation
from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import NicInterface, VmStatus
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Nic
from appliance.engine.vms import Vms
from appliance.errors import InvalidState, NameInUse


@dataclass(frozen=True)
class NicEdit:
    """None leaves a field as it is."""

    name: str | None = None
    mac: str | None = None
    interface: NicInterface | None = None
    vnic_profile_id: str | None = None
    linked: bool | None = None


class NicUpdates:
    def __init__(self, ctx: EngineContext, vms: Vms) -> None:
        self.ctx = ctx
        self.vms = vms

    @audited(AuditAction.NIC_UPDATE)
    def update(self, vm_id: str, nic_id: str, edit: NicEdit, *, actor: Actor) -> Nic:
        store = self.ctx.store
        with self.ctx.locks.hold(vm_id):
            vm = self.vms.get(vm_id, actor=actor)
            require_vm(actor, vm, "change the NICs of")
            nic = self.vms.get_nic(vm.id, nic_id, actor=actor)
            changed = replace(
                nic, name=edit.name if edit.name is not None else nic.name,
                mac=mac_pools.normalized(edit.mac) if edit.mac else nic.mac,
                interface=edit.interface or nic.interface,
                vnic_profile_id=edit.vnic_profile_id or nic.vnic_profile_id,
                linked=nic.linked if edit.linked is None else edit.linked)
            if changed.name != nic.name:
                validation.name(changed.name, noun="NIC")
                if any(n.name == changed.name for n in store.nics.where(vm_id=vm.id)):
                    raise NameInUse(f"VM '{vm.name}' already has a NIC named "
                                    f"'{changed.name}'.")
            held = [what for what, before, after in (
                ("MAC address", nic.mac, changed.mac),
                ("model", nic.interface, changed.interface),
                ("vNIC profile", nic.vnic_profile_id, changed.vnic_profile_id),
                ("link state", nic.linked, changed.linked)) if before != after]
            if held and vm.status is not VmStatus.DOWN:
                raise InvalidState(f"Cannot edit Interface. VM '{vm.name}' is "
                                   f"{vm.status.value}: its NIC's {', '.join(held)} change "
                                   "only while it is down.")
            if changed.mac != nic.mac:
                mac_pools.allocate(store, vm.cluster_id, changed.mac, except_nic=nic.id)
            if changed.vnic_profile_id != nic.vnic_profile_id and changed.vnic_profile_id:
                store.vnic_profiles.get(changed.vnic_profile_id)
            store.nics.update(changed)
        self.ctx.events.record(EventCode.NIC_UPDATED, f"NIC {changed.name} of VM {vm.name} was "
                               f"updated by {actor.name}.", vm_id=vm.id, user=actor.name)
        return changed
