"""The console: the in-browser page (noVNC for the screen, xterm.js for the serial console),
their one-time tickets, the page's power buttons, and ``.vv`` files for remote-viewer."""

from __future__ import annotations

from flask import current_app, jsonify, render_template, request, url_for
from werkzeug.wrappers import Response

from appliance.engine.consoles import remote_viewer_file
from appliance.errors import NotSupported
from webui.blueprint import portal_blueprint
from webui.session import actor, engine, login_required
from webui.vm_actions import ACTIONS, VmAction, allowed_for, chosen_action, run

blueprint = portal_blueprint("console", __name__, url_prefix="/console")

PROXY_EXTENSION = "console_proxy_port"
TLS_PROXY_EXTENSION = "console_tls_proxy_port"


@blueprint.get("/<vm_id>")
@login_required
def page(vm_id: str) -> str:
    who = actor()
    vm = engine().vms.get(vm_id, actor=who)
    offered = [(action.value, ACTIONS[action]) for action in VmAction
               if action in allowed_for(who)]
    return render_template("console.html", vm=vm, actions=offered,
                           back=url_for("admin.vms.show" if who.superuser else "user.vm",
                                        vm_id=vm.id))


@blueprint.post("/<vm_id>/action.json")
@login_required
def action(vm_id: str) -> Response:
    """A power button of the console page: the same actions, as the VM's pages have them."""
    chosen = chosen_action(request.form.get("action", ""), allowed=allowed_for(actor()))
    return jsonify(said=run(vm_id, chosen))


@blueprint.post("/<vm_id>/ticket.json")
@login_required
def ticket(vm_id: str) -> Response:
    """A ticket for this user and VM, valid for seconds; the page hands it to the proxy."""
    port = _proxy_port()
    issued = engine().consoles.issue(vm_id, actor=actor())
    if issued.protocol != "vnc":
        raise NotSupported("The in-browser console speaks VNC; this VM's display is SPICE: "
                           "use the remote-viewer file instead.")
    return jsonify(ticket=issued.token, password=issued.password, port=port,
                   path=f"/websockify/{issued.token}", expires=issued.expires,
                   vm=issued.vm_name)


@blueprint.post("/<vm_id>/serial-ticket.json")
@login_required
def serial_ticket(vm_id: str) -> Response:
    """A ticket for the VM's serial console (xterm.js on the page, through the proxy)."""
    port = _proxy_port()
    issued = engine().consoles.issue_serial(vm_id, actor=actor())
    return jsonify(ticket=issued.token, port=port, path=f"/serial/{issued.token}",
                   expires=issued.expires, vm=issued.vm_name)


def _proxy_port() -> int:
    port = current_app.extensions.get(TLS_PROXY_EXTENSION if request.is_secure
                                      else PROXY_EXTENSION)
    if not port:
        raise NotSupported("The console proxy is not running in this service.")
    return int(port)


@blueprint.post("/<vm_id>/console.vv")
@login_required
def native(vm_id: str) -> Response:
    issued = engine().consoles.issue_native(vm_id, actor=actor())
    response = Response(remote_viewer_file(issued), mimetype="application/x-virt-viewer")
    response.headers["Content-Disposition"] = f'attachment; filename="{issued.vm_name}.vv"'
    response.headers["Cache-Control"] = "no-store"
    return response

