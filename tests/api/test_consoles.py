"""A VM's graphical consoles through the SDK, as get_display_ticket and remote-viewer users
reach them: one per display protocol (VNC, SPICE, both by default), where each listens while
the VM runs, a one-time password of each display (``ticket``) and a ``.vv`` file."""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from collections.abc import Callable, Iterator

import ovirtsdk4 as sdk
import ovirtsdk4.types as types
import pytest

from tests.api.conftest import unique
from tests.api.test_sdk import wait_status
from tests.display_clients import spice_login, vnc_login

MiB = 1024 * 1024


def _vm(admin: sdk.Connection, display: types.DisplayType | None) -> types.Vm:
    vms = admin.system_service().vms_service()
    vm = vms.add(types.Vm(name=unique("con"), cluster=types.Cluster(name="Default"),
                          template=types.Template(name="Blank"), memory=64 * MiB,
                          display=types.Display(type=display) if display else None))
    vms.vm_service(vm.id).disk_attachments_service().add(types.DiskAttachment(
        disk=types.Disk(name=f"{vm.name}_d", provisioned_size=16 * MiB,
                        storage_domains=[types.StorageDomain(name="ram")]),
        interface=types.DiskInterface.VIRTIO, bootable=True))
    return vm


@pytest.fixture
def vnc_vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    yield from _cleanup(admin, _vm(admin, types.DisplayType.VNC))


@pytest.fixture
def default_vm(admin: sdk.Connection) -> Iterator[types.Vm]:
    yield from _cleanup(admin, _vm(admin, None))


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


def _wait_refused(login: Callable[[str, int, str], bool], console: types.GraphicsConsole,
                  password: str) -> None:
    """The password let one client in; the display refuses it again within seconds."""
    deadline = time.monotonic() + 10
    while login(console.address, console.port, password):
        assert time.monotonic() < deadline, "the display password still works"
        time.sleep(0.2)


def test_a_new_vm_has_both_displays_each_with_its_own_one_time_password(
        admin: sdk.Connection, default_vm: types.Vm) -> None:
    """VNC for the web console, SPICE for oVirt's clients: oVirt shows the display type
    SPICE then; a ticket of one display opens that one only, once."""
    service = admin.system_service().vms_service().vm_service(default_vm.id)
    assert service.get().display.type == types.DisplayType.SPICE
    service.start()
    wait_status(service, types.VmStatus.UP)
    consoles = service.graphics_consoles_service()
    found = {c.protocol: c for c in consoles.list(current=True)}
    assert sorted(c.id for c in found.values()) == ["7370696365", "766e63"]
    vnc, spice = found[types.GraphicsType.VNC], found[types.GraphicsType.SPICE]
    assert vnc.port and spice.port and vnc.port != spice.port

    spice_password = consoles.console_service(spice.id).ticket().value
    vnc_password = consoles.console_service(vnc.id).ticket().value
    assert spice_password != vnc_password
    assert not spice_login(spice.address, spice.port, vnc_password)
    assert not vnc_login(vnc.address, vnc.port, spice_password)
    assert spice_login(spice.address, spice.port, spice_password)
    _wait_refused(spice_login, spice, spice_password)
    assert vnc_login(vnc.address, vnc.port, vnc_password)  # SPICE's login left VNC's alone
    _wait_refused(vnc_login, vnc, vnc_password)
    # the VM-level ticket is its display's: SPICE
    assert spice_login(spice.address, spice.port, service.ticket().value)


def test_consoles_follow_the_display_type_and_are_added_and_removed_while_down(
        admin: sdk.Connection, default_vm: types.Vm) -> None:
    service = admin.system_service().vms_service().vm_service(default_vm.id)
    consoles = service.graphics_consoles_service()
    # oVirt: a display type sent resets the consoles to that one
    service.update(types.Vm(display=types.Display(type=types.DisplayType.VNC)))
    assert [c.protocol for c in consoles.list()] == [types.GraphicsType.VNC]
    assert service.get().display.type == types.DisplayType.VNC
    with pytest.raises(sdk.Error) as last:
        consoles.console_service("766e63").remove()
    assert last.value.code == 400 and "at least one" in str(last.value)
    consoles.add(types.GraphicsConsole(protocol=types.GraphicsType.SPICE))
    assert sorted(c.protocol.value for c in consoles.list()) == ["spice", "vnc"]
    with pytest.raises(sdk.Error) as twice:
        consoles.add(types.GraphicsConsole(protocol=types.GraphicsType.SPICE))
    assert twice.value.code == 409
    consoles.console_service("766e63").remove()
    assert [c.protocol for c in consoles.list()] == [types.GraphicsType.SPICE]
    service.start()
    wait_status(service, types.VmStatus.UP)
    with pytest.raises(sdk.Error) as running:
        consoles.add(types.GraphicsConsole(protocol=types.GraphicsType.VNC))
    assert running.value.code == 409 and "only while it is down" in str(running.value)
