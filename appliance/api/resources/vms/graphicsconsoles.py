"""``/vms/{id}/graphicsconsoles``: a VM's graphical console, in the protocol of its
display."""

from __future__ import annotations

from flask import Response

from appliance.api import http
from appliance.api.routing import Operation, Routes
from appliance.api.schema import Field, Kind, Type

GRAPHICS_CONSOLE = Type(tag="graphics_console", plural="graphicsconsoles",
                        description="The graphical console of a VM",
                        fields=(Field("protocol", get=lambda c: c["protocol"]),
                                Field("vm", Kind.REF, get=lambda c: c["vm"], ref="vms")))


def install(routes: Routes) -> None:
    routes.add("/vms/<vm_id>/graphicsconsoles", Operation.LIST, tag="graphics_console",
               summary="List a VM's graphical consoles")(list_consoles)


def list_consoles(vm_id: str) -> Response:
    vm = http.engine().vms.get(vm_id, actor=http.actor())
    protocol = vm.display.value
    console_id = protocol.encode().hex()  # oVirt's ids: hex of the protocol name
    node = GRAPHICS_CONSOLE.render({"protocol": protocol, "vm": vm.id},
                                   href=http.href("vms", vm.id, "graphicsconsoles", console_id))
    node["id"] = console_id
    return http.respond_list(GRAPHICS_CONSOLE, [node])
