"""``/vms/{id}/graphicsconsoles``: a VM's graphical consoles, one per display protocol it has
(VNC, SPICE or both; new VMs have both), with where each listens while the VM runs; added
and removed while the VM is down; their ``ticket`` (a one-time password of that display) and
``remoteviewerconnectionfile`` (a ``.vv`` file for remote-viewer) actions, and
``POST /vms/{id}/ticket`` for the VM's display (SPICE when it has one, as oVirt's), all
issued by the engine's console tickets."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.consoles import NATIVE_CLIENT_SECONDS, remote_viewer_file
from appliance.engine.enums import DisplayType
from appliance.engine.model import Vm
from appliance.engine.vm_updates import VmUpdate
from appliance.errors import InvalidInput, NameInUse, NotFound

GRAPHICS_CONSOLE = Type(tag="graphics_console", plural="graphicsconsoles",
                        description="A graphical console of a VM",
                        fields=(Field("protocol", get=lambda c: c["protocol"], writable=True,
                                      values=tuple(DisplayType)),
                                Field("address", get=lambda c: c.get("address")),
                                Field("port", Kind.INTEGER, get=lambda c: c.get("port")),
                                Field("tls_port", Kind.INTEGER, get=lambda c: c.get("tls_port")),
                                Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/graphicsconsoles"
    routes.add(base, Operation.LIST, tag="graphics_console",
               summary="List a VM's graphical consoles")(list_consoles)
    routes.add(base, Operation.ADD, tag="graphics_console",
               summary="Add a graphical console (the VM is down)")(add_console)
    routes.add(f"{base}/<console_id>", Operation.GET, tag="graphics_console",
               summary="Get a VM's graphical console")(get_console)
    routes.add(f"{base}/<console_id>", Operation.REMOVE, tag="graphics_console",
               summary="Remove a graphical console (the VM is down)")(remove_console)
    routes.add(f"{base}/<console_id>/ticket", Operation.ACTION, tag="action",
               summary="A one-time password for the console (the VM runs)")(console_ticket)
    routes.add(f"{base}/<console_id>/remoteviewerconnectionfile", Operation.ACTION,
               tag="action", summary="A remote-viewer (.vv) file for the console")(
                   remote_viewer_connection_file)
    routes.add("/vms/<vm_id>/ticket", Operation.ACTION, tag="action",
               summary="A one-time password for the VM's display (the VM runs)")(vm_ticket)


def console_id(protocol: DisplayType) -> str:
    return protocol.value.encode().hex()  # oVirt's ids: hex of the protocol name


def list_consoles(vm_id: str) -> Response:
    vm = _vm(vm_id)
    displays = _displays(vm)
    return http.respond_list(GRAPHICS_CONSOLE,
                             [_render(vm, protocol, displays) for protocol in vm.graphics])


def get_console(vm_id: str, console_id: str) -> Response:
    vm, protocol = _console(vm_id, console_id)
    return http.respond(GRAPHICS_CONSOLE.tag, _render(vm, protocol, _displays(vm)))


def add_console(vm_id: str) -> Response:
    protocol = DisplayType(str(http.read(GRAPHICS_CONSOLE).get("protocol") or "vnc"))
    vm = _vm(vm_id)
    if protocol in vm.graphics:
        raise NameInUse(f"VM '{vm.name}' already has a {protocol.value.upper()} console.")
    vm = http.engine().vm_updates.update(vm.id, VmUpdate(graphics=(*vm.graphics, protocol)),
                                         actor=http.actor())
    node = _render(vm, protocol, {})
    return http.respond(GRAPHICS_CONSOLE.tag, node, status=201, location=node["href"])


def remove_console(vm_id: str, console_id: str) -> Response:
    vm, protocol = _console(vm_id, console_id)
    if vm.graphics == (protocol,):
        raise InvalidInput(f"The {protocol.value.upper()} console is VM '{vm.name}''s last; "
                           "a VM keeps at least one.")
    http.engine().vm_updates.update(
        vm.id, VmUpdate(graphics=tuple(g for g in vm.graphics if g is not protocol)),
        actor=http.actor())
    return Response(status=200)


def console_ticket(vm_id: str, console_id: str) -> Response:
    vm, protocol = _console(vm_id, console_id)
    return _ticket(vm, protocol)


def vm_ticket(vm_id: str) -> Response:
    vm = _vm(vm_id)
    return _ticket(vm, vm.display)


def remote_viewer_connection_file(vm_id: str, console_id: str) -> Response:
    vm, protocol = _console(vm_id, console_id)
    http.read_action()
    issued = http.engine().consoles.issue_native(vm.id, actor=http.actor(), protocol=protocol)
    return http.respond_action(remote_viewer_connection_file=remote_viewer_file(issued))


def _ticket(vm: Vm, protocol: DisplayType) -> Response:
    """``<action><ticket><expiry>seconds</expiry></ticket></action>``; a ``<value>`` sent is
    not taken: the password is always the engine's own random one, answered back."""
    asked: Any = http.read_action().get("ticket")
    expiry = asked.get("expiry") if isinstance(asked, dict) else None
    seconds = NATIVE_CLIENT_SECONDS
    if expiry:
        if not str(expiry).isdigit():
            raise InvalidInput(f"<ticket><expiry> is a number of seconds, not "
                               f"'{str(expiry)[:20]}'.")
        seconds = int(str(expiry))
    issued = http.engine().consoles.issue_native(vm.id, actor=http.actor(), seconds=seconds,
                                                 protocol=protocol)
    return http.respond_action(ticket={"value": issued.password, "expiry": str(seconds)})


def _displays(vm: Vm) -> dict[str, dict[str, Any]]:
    """Where the running VM's displays listen, by protocol."""
    found = http.engine().consoles.get_displays(vm.id, actor=http.actor())
    return {d.type: {"address": d.address, "port": d.port, "tls_port": d.tls_port}
            for d in found}


def _render(vm: Vm, protocol: DisplayType, displays: dict[str, dict[str, Any]]) -> Node:
    facts: dict[str, Any] = {"protocol": protocol.value, "vm": vm.id,
                             **displays.get(protocol.value, {})}
    node = GRAPHICS_CONSOLE.render(facts, href=http.href("vms", vm.id, "graphicsconsoles",
                                                         console_id(protocol)))
    node["id"] = console_id(protocol)
    return node


def _vm(vm_id: str) -> Vm:
    return http.engine().vms.get(vm_id, actor=http.actor())


def _console(vm_id: str, wanted: str) -> tuple[Vm, DisplayType]:
    vm = _vm(vm_id)
    for protocol in vm.graphics:
        if wanted == console_id(protocol):
            return vm, protocol
    names = " and ".join(g.value.upper() for g in vm.graphics)
    raise NotFound(f"VM '{vm.name}' has no graphical console with id '{wanted[:40]}'; its "
                   f"consoles are {names}.")
