"""A VM's graphical console through the SDK, as get_display_ticket and remote-viewer users
reach it: the console in the protocol of the VM's display (VNC or SPICE), where it listens
while the VM runs, a one-time display password (``ticket``) and a ``.vv`` file."""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique
from tests.api.test_sdk import wait_status

MiB = 1024 * 1024


def _vm(admin: sdk.Connection, display: types.DisplayType) -> types.Vm:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("con"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank"), memory=64 * MiB,
                          display=types.Display(type=display)))
    vms.vm_service(vm.id).disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=16 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True))
    return vm


@pytest.fixture
def vnc_vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    yield from _cleanup(admin, _vm(admin, types.DisplayType.VNC))


@pytest.fixture
def spice_vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    yield from _cleanup(admin, _vm(admin, types.DisplayType.SPICE))


def _cleanup(admin: sdk.Connection, vm: types.Vm) -> Iterator[types.Vm]:
    yield vm
    service = admin.system_service().vms_service().vm_service(vm.id)
    with contextlib.suppress(sdk.Error):
        service.stop()
    with contextlib.suppress(sdk.NotFoundError):
        service.remove()


def test_a_vnc_console_ticket_and_remote_viewer_file(admin: sdk.Connection,
                                                     vnc_vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(vnc_vm.id)
    consoles = service.graphics_consoles_service()
    [console] = consoles.list(current=True)
    assert (console.protocol, console.id, console.port) == (types.GraphicsType.VNC,
                                                            "766e63", None)
    with pytest.raises(sdk.Error) as down:  # no display to open while the VM is down
        consoles.console_service(console.id).ticket()
    assert down.value.code == 409 and "when it runs" in str(down.value)

    service.start()
    wait_status(service, types.VmStatus.UP)
    [console] = consoles.list(current=True)
    assert console.address and console.port and console.port > 0
    ticket = consoles.console_service(console.id).ticket()
    assert len(ticket.value) == 8 and ticket.expiry == 120
    short = consoles.console_service(console.id).ticket(ticket=types.Ticket(expiry=30))
    assert short.expiry == 30 and short.value != ticket.value  # a new password each time
    assert service.ticket().value  # the VM-level ticket action of the same display
    with pytest.raises(sdk.Error) as long_lived:
        consoles.console_service(console.id).ticket(ticket=types.Ticket(expiry=86400))
    assert long_lived.value.code == 400

    vv = consoles.console_service(console.id).remote_viewer_connection_file()
    lines = dict(line.split("=", 1) for line in vv.splitlines() if "=" in line)
    assert (lines["type"], lines["host"], int(lines["port"])) == (
        "vnc", console.address, console.port)
    assert len(lines["password"]) == 8
    with socket.create_connection((console.address, console.port), timeout=10) as display:
        assert display.recv(12).startswith(b"RFB ")  # the display listens where it says

    with pytest.raises(sdk.NotFoundError):
        consoles.console_service("7370696365").ticket()  # no SPICE on a VNC VM


def test_a_spice_vm_has_a_spice_console(admin: sdk.Connection, spice_vm: types.Vm) -> None:
    """What get_display_ticket does: the SPICE console of a running VM and its ticket."""
    service = admin.system_service().vms_service().vm_service(spice_vm.id)
    service.start()
    wait_status(service, types.VmStatus.UP)
    consoles = service.graphics_consoles_service()
    console = next(c for c in consoles.list(current=True)
                   if c.protocol == types.GraphicsType.SPICE)
    assert console.id == "7370696365" and console.port and console.port > 0
    ticket = consoles.console_service(console.id).ticket()
    assert ticket.value
    vv = consoles.console_service(console.id).remote_viewer_connection_file()
    assert "type=spice" in vv and f"port={console.port}" in vv
    with socket.create_connection((console.address, console.port), timeout=10) as display:
        # a SPICE link request for the main channel: the server answers with its own header
        message = struct.pack("<IBBIII", 0, 1, 0, 0, 0, 18)
        display.sendall(struct.pack("<4sIII", b"REDQ", 2, 2, len(message)) + message)
        assert display.recv(4) == b"REDQ"
