"""``/vms/{id}/graphicsconsoles``: a VM's graphical console, in the protocol of its display
(VNC or SPICE), with where it listens while the VM runs; its ``ticket`` (a one-time display
password, as ``POST /vms/{id}/ticket`` too) and ``remoteviewerconnectionfile`` (a ``.vv``
file for remote-viewer) actions, both issued by the engine's console tickets."""

from __future__ import annotations

from typing import Any

from flask import Response

from appliance.api import http
from appliance.api.representation import Node
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type
from appliance.engine.consoles import NATIVE_CLIENT_SECONDS, remote_viewer_file
from appliance.engine.model import Vm
from appliance.errors import InvalidInput, NotFound

GRAPHICS_CONSOLE = Type(tag="graphics_console", plural="graphicsconsoles",
                        description="The graphical console of a VM",
                        fields=(Field("protocol", get=lambda c: c["protocol"]),
                                Field("address", get=lambda c: c.get("address")),
                                Field("port", Kind.INTEGER, get=lambda c: c.get("port")),
                                Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))


def install(routes: Routes) -> None:
    base = "/vms/<vm_id>/graphicsconsoles"
    routes.add(base, Operation.LIST, tag="graphics_console",
               summary="List a VM's graphical consoles")(list_consoles)
    routes.add(f"{base}/<console_id>", Operation.GET, tag="graphics_console",
               summary="Get a VM's graphical console")(get_console)
    routes.add(f"{base}/<console_id>/ticket", Operation.ACTION, tag="action",
               summary="A one-time password for the console (the VM runs)")(console_ticket)
    routes.add(f"{base}/<console_id>/remoteviewerconnectionfile", Operation.ACTION,
               tag="action", summary="A remote-viewer (.vv) file for the console")(
                   remote_viewer_connection_file)
    routes.add("/vms/<vm_id>/ticket", Operation.ACTION, tag="action",
               summary="A one-time password for the VM's display (the VM runs)")(vm_ticket)


def console_id(protocol: str) -> str:
    return protocol.encode().hex()  # oVirt's ids: hex of the protocol name


def list_consoles(vm_id: str) -> Response:
    return http.respond_list(GRAPHICS_CONSOLE, [_render(_vm(vm_id))])


def get_console(vm_id: str, console_id: str) -> Response:
    return http.respond(GRAPHICS_CONSOLE.tag, _render(_console(vm_id, console_id)))


def console_ticket(vm_id: str, console_id: str) -> Response:
    return _ticket(_console(vm_id, console_id))


def vm_ticket(vm_id: str) -> Response:
    return _ticket(_vm(vm_id))


def remote_viewer_connection_file(vm_id: str, console_id: str) -> Response:
    vm = _console(vm_id, console_id)
    http.read_action()
    issued = http.engine().consoles.issue_native(vm.id, actor=http.actor())
    return http.respond_action(remote_viewer_connection_file=remote_viewer_file(issued))


def _ticket(vm: Vm) -> Response:
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
    issued = http.engine().consoles.issue_native(vm.id, actor=http.actor(), seconds=seconds)
    return http.respond_action(ticket={"value": issued.password, "expiry": str(seconds)})


def _render(vm: Vm) -> Node:
    protocol = vm.display.value
    facts: dict[str, Any] = {"protocol": protocol, "vm": vm.id}
    display = http.engine().consoles.get_display(vm.id, actor=http.actor())
    if display is not None and display.port > 0:
        facts.update(address=display.address, port=display.port)
    node = GRAPHICS_CONSOLE.render(facts, href=http.href("vms", vm.id, "graphicsconsoles",
                                                         console_id(protocol)))
    node["id"] = console_id(protocol)
    return node


def _vm(vm_id: str) -> Vm:
    return http.engine().vms.get(vm_id, actor=http.actor())


def _console(vm_id: str, wanted: str) -> Vm:
    vm = _vm(vm_id)
    if wanted != console_id(vm.display.value):
        raise NotFound(f"VM '{vm.name}' has no graphical console with id '{wanted[:40]}'; its "
                       f"display is {vm.display.value}.")
    return vm
