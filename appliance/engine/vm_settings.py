"""A VM's settings beyond its hardware, as oVirt has them: the memory policy, its
graphical consoles, the serial number the guest reads, where it may run, and cloud-init's
settings. Checked here, once, for
both a new VM and an edit; what a guest sees of them is given at its start."""

from __future__ import annotations

from appliance.engine import validation
from appliance.engine.enums import DisplayType, SerialNumberPolicy
from appliance.engine.model import Host, SerialNumber, Vm, VmPlacement
from appliance.engine.store.schema import Store
from appliance.errors import InvalidInput

MAX_INITIALIZATION = 64 * 1024  # characters of cloud-init settings kept for one VM
SERIAL_LENGTH = 64


def check_memory_policy(vm: Vm) -> Vm:
    """Guaranteed memory is at most the memory, which is at most the maximum (oVirt's
    rules); the maximum is where memory could grow while the VM runs."""
    if vm.memory_guaranteed:
        validation.memory(vm.memory_guaranteed)
    if vm.guaranteed_memory > vm.memory:
        raise InvalidInput(f"VM '{vm.name}': the guaranteed memory "
                           f"({validation.human_size(vm.guaranteed_memory)}) cannot exceed "
                           f"its memory ({validation.human_size(vm.memory)}).")
    if vm.max_memory < vm.memory:
        raise InvalidInput(f"VM '{vm.name}': the maximum memory "
                           f"({validation.human_size(vm.max_memory)}) cannot be less than its "
                           f"memory ({validation.human_size(vm.memory)}).")
    return vm


def check_graphics(graphics: tuple[DisplayType, ...]) -> tuple[DisplayType, ...]:
    """One console per protocol, VNC first (the web console's), at least one."""
    if not graphics:
        raise InvalidInput("A VM needs a graphical console (VNC or SPICE).")
    return tuple(g for g in DisplayType if g in graphics)


def check_serial_number(serial: SerialNumber | None) -> SerialNumber | None:
    if serial is None:
        return None
    if serial.policy is SerialNumberPolicy.CUSTOM:
        if not serial.value or len(serial.value) > SERIAL_LENGTH or not serial.value.isprintable():
            raise InvalidInput(f"A custom serial number is 1 to {SERIAL_LENGTH} printable "
                               "characters.")
        return serial
    return SerialNumber(serial.policy)  # a value is only kept with the custom policy


def check_placement(store: Store, cluster_id: str, placement: VmPlacement) -> VmPlacement:
    """The hosts named exist and are in the VM's cluster."""
    for host_id in placement.host_ids:
        host = store.hosts.get(host_id)
        if host.cluster_id != cluster_id:
            raise InvalidInput(f"Host {host.name} is not in the VM's cluster; a VM can be "
                               "placed only on hosts of its own cluster.")
    return VmPlacement(placement.affinity, tuple(dict.fromkeys(placement.host_ids)))


def check_initialization(settings: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    if sum(len(k) + len(v) for k, v in settings) > MAX_INITIALIZATION:
        raise InvalidInput(f"The VM's initialization settings are larger than "
                           f"{MAX_INITIALIZATION // 1024} KiB.")
    return settings


def guest_serial(vm: Vm, host: Host) -> str:
    """The serial number the guest reads in SMBIOS; "" for QEMU's own (none)."""
    serial = vm.serial_number
    if serial is None:
        return ""
    if serial.policy is SerialNumberPolicy.VM:
        return vm.id
    if serial.policy is SerialNumberPolicy.HOST:
        return host.host_uuid or host.id
    return serial.value
