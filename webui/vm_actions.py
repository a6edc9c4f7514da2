"""The VM actions the portals' buttons send: the form names one by its value, and each is a
typed call of an engine service (never a method looked up by name), with its button's label,
when it applies and what the page says once it is asked for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from flask import abort, flash, redirect
from werkzeug.wrappers import Response

from appliance.engine.authz import Actor
from appliance.engine.engine import Engine
from appliance.engine.enums import VmStatus
from appliance.engine.model import Job
from appliance.errors import VirtStickError
from webui.session import actor, engine


class VmAction(StrEnum):
    START = "start"
    SHUTDOWN = "shutdown"
    STOP = "stop"
    REBOOT = "reboot"
    PAUSE = "pause"
    RESUME = "resume"


class VmNeeds(StrEnum):
    """The VM state in which a button applies; portal.js applies the same rule live."""

    DOWN = "down"
    UP = "up"
    PAUSED = "paused"
    RUNNING = "running"  # any state with a QEMU process

    def allows(self, status: VmStatus) -> bool:
        if self is VmNeeds.RUNNING:
            return status.is_running
        return status.value == self.value


@dataclass(frozen=True)
class PortalAction:
    label: str  # on the button
    done: str  # after "VM NAME" in the message once the engine has taken it
    needs: VmNeeds
    run: Callable[[Engine, str, Actor], Job]  # (engine, VM id, who)


ACTIONS: Mapping[VmAction, PortalAction] = MappingProxyType({
    VmAction.START: PortalAction(
        "Run", "is starting", VmNeeds.DOWN,
        lambda e, vm_id, who: e.vms.start(vm_id, actor=who)),
    VmAction.SHUTDOWN: PortalAction(
        "Shut down", "is shutting down", VmNeeds.RUNNING,
        lambda e, vm_id, who: e.vms.shutdown(vm_id, actor=who)),
    VmAction.STOP: PortalAction(
        "Power off", "was powered off", VmNeeds.RUNNING,
        lambda e, vm_id, who: e.vms.stop(vm_id, actor=who)),
    VmAction.REBOOT: PortalAction(
        "Reboot", "is rebooting", VmNeeds.UP,
        lambda e, vm_id, who: e.vms.reboot(vm_id, actor=who)),
    VmAction.PAUSE: PortalAction(
        "Pause", "was paused", VmNeeds.UP,
        lambda e, vm_id, who: e.vms.pause(vm_id, actor=who)),
    VmAction.RESUME: PortalAction(
        "Resume", "was resumed", VmNeeds.PAUSED,
        lambda e, vm_id, who: e.vms.resume(vm_id, actor=who)),
})

ADMIN_ACTIONS = frozenset(VmAction)
USER_ACTIONS = frozenset({VmAction.START, VmAction.SHUTDOWN, VmAction.STOP, VmAction.REBOOT})


def vm_can(status: str, needs: str) -> bool:
    """Whether a button that ``needs`` the VM down, up, paused or running applies now."""
    return VmNeeds(needs).allows(VmStatus(status))


def allowed_for(who: Actor) -> frozenset[VmAction]:
    """The actions a user's pages offer: all for an administrator, the power buttons else."""
    return ADMIN_ACTIONS if who.superuser else USER_ACTIONS


def chosen_action(value: str, *, allowed: frozenset[VmAction]) -> PortalAction:
    """The action a form or script names; one that is not allowed is a bad request."""
    try:
        action = VmAction(value)
    except ValueError:
        abort(400)
    if action not in allowed:
        abort(400)
    return ACTIONS[action]


def run(vm_id: str, chosen: PortalAction) -> str:
    """Ask the engine for the action on the VM, as the page's user; what the page says."""
    who = actor()
    vm = engine().vms.get(vm_id, actor=who)
    chosen.run(engine(), vm_id, who)
    return f"VM {vm.name} {chosen.done}."


def perform(vm_id: str, value: str, *, allowed: frozenset[VmAction], then: str) -> Response:
    """Run the action a form asked for on the VM, say how it went, and go to ``then``; a
    value that names no allowed action is a bad request."""
    chosen = chosen_action(value, allowed=allowed)
    try:
        said = run(vm_id, chosen)
    except VirtStickError as exc:
        flash(exc.detail, "error")
    else:
        flash(said, "success")
    return redirect(then)
