"""Console tickets: one-time, short-lived permissions to reach one of a VM's displays.

A VM has a VNC display (the web console's), a SPICE one (remote-viewer's and oVirt's
clients'), or both, each with its own password. Issuing a ticket checks that the user may
use the VM and sets a new password on the display asked for, valid as long as the ticket.
The console proxy redeems the ticket once, as the same user, and learns where the display
listens. Tickets live in memory: a restart voids them all, which is what a ticket that
lives for seconds should do.
"""

from __future__ import annotations

import secrets
import socket
import threading
from dataclasses import dataclass
from typing import TypeVar

from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor, require_vm
from appliance.engine.context import EngineContext
from appliance.engine.enums import DisplayType
from appliance.engine.event_codes import EventCode
from appliance.engine.model import Vm
from appliance.engine.vms import Vms
from appliance.errors import (
    InvalidInput,
    InvalidState,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from appliance.vdsm.displays import GraphicsInfo

# remote-viewer is started by hand after the download: its password lives longer.
NATIVE_CLIENT_SECONDS = 120
MAX_NATIVE_SECONDS = 3600


class TicketRefused(NotAuthenticated):
    code = "console-ticket-refused"


@dataclass(frozen=True)
class ConsoleTicket:
    token: str
    vm_id: str
    vm_name: str
    user_id: str
    protocol: DisplayType
    password: str  # the display's own one-time password (VNC allows 8 characters)
    expires: float
    address: str
    port: int


@dataclass(frozen=True)
class SerialTicket:
    """One use of a VM's serial console, for one user, within seconds."""

    token: str
    vm_id: str
    vm_name: str
    user_id: str
    expires: float


_Ticket = TypeVar("_Ticket", ConsoleTicket, SerialTicket)


@dataclass(frozen=True)
class SerialSession:
    """An open serial console: what the guest printed lately, and the live connection."""

    backlog: bytes
    connection: socket.socket


SERIAL_BACKLOG = 16 * 1024  # bytes of the guest's recent output shown on opening


class Consoles:
    def __init__(self, ctx: EngineContext, vms: Vms) -> None:
        self.ctx = ctx
        self.vms = vms
        self.ttl = float(ctx.config.auth.console_ticket_seconds)
        self._clock = ctx.clock
        self._tickets: dict[str, ConsoleTicket] = {}
        self._serial_tickets: dict[str, SerialTicket] = {}
        self._lock = threading.Lock()

    @audited_read(AuditAction.CONSOLE_GET_DISPLAY)
    def get_displays(self, vm_id: str, *, actor: Actor) -> tuple[GraphicsInfo, ...]:
        """Where a running VM's displays listen (none while it is not running). Reaching
        one still takes a ticket's password."""
        vm = self.vms.get(vm_id, actor=actor)
        if not vm.status.is_running or vm.host_id is None:
            return ()
        return self.ctx.hosts.agent(vm.host_id).graphics(vm.id)

    @audited(AuditAction.CONSOLE_ISSUE)
    def issue(self, vm_id: str, *, actor: Actor, seconds: float | None = None,
              protocol: DisplayType = DisplayType.VNC) -> ConsoleTicket:
        """A ticket for ``actor`` alone to open the ``protocol`` console of ``vm_id`` once
        (VNC: the web console's)."""
        vm = self.vms.get(vm_id, actor=actor)
        require_vm(actor, vm, "open the console of")
        if protocol not in vm.graphics:
            raise NotFound(f"VM '{vm.name}' has no {protocol.value.upper()} console (its "
                           f"consoles: {_names(vm)}).")
        if not vm.status.is_running or vm.host_id is None:
            raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; its console opens "
                               "when it runs.")
        agent = self.ctx.hosts.agent(vm.host_id)
        graphics = next((g for g in agent.graphics(vm.id) if g.type == protocol.value), None)
        if graphics is None:
            raise InvalidState(f"VM '{vm.name}' runs without its {protocol.value.upper()} "
                               "display (the host's QEMU lacks it, or it started before "
                               "the console was added); restart the VM on a host that has "
                               "it.")
        now = self._clock.now()
        expires = now + (seconds if seconds is not None else self.ttl)
        password = secrets.token_urlsafe(6)[:8]
        agent.set_graphics_password(vm.id, protocol=protocol.value, password=password,
                                    valid_until=expires)
        ticket = ConsoleTicket(token=secrets.token_urlsafe(32), vm_id=vm.id, vm_name=vm.name,
                               user_id=actor.user_id, protocol=protocol,
                               password=password, expires=expires, address=graphics.address,
                               port=graphics.port)
        with self._lock:
            self._forget_expired(now)
            self._tickets[ticket.token] = ticket
        self.ctx.events.record(EventCode.CONSOLE_TICKET, f"{actor.name} opened the console of VM "
                               f"{vm.name}.", vm_id=vm.id, user=actor.name)
        return ticket

    @audited(AuditAction.CONSOLE_ISSUE_NATIVE)
    def issue_native(self, vm_id: str, *, actor: Actor,
                     seconds: float = NATIVE_CLIENT_SECONDS,
                     protocol: DisplayType | None = None) -> ConsoleTicket:
        """For remote-viewer and oVirt's ``ticket`` action: only the display password
        matters; the ticket is not redeemed. ``seconds`` is bounded: a display password is
        short-lived. ``protocol`` None: VNC when the VM has it (the portal's console
        file, as the web console), else SPICE; oVirt's API asks for one by name."""
        if not 1 <= seconds <= MAX_NATIVE_SECONDS:
            raise InvalidInput(f"A console ticket lives from 1 to {MAX_NATIVE_SECONDS} "
                               f"seconds, not {seconds:g}.")
        if protocol is None:
            protocol = self.vms.get(vm_id, actor=actor).graphics[0]
        ticket = self.issue(vm_id, actor=actor, seconds=seconds, protocol=protocol)
        with self._lock:
            self._tickets.pop(ticket.token, None)
        return ticket

    @audited(AuditAction.CONSOLE_REDEEM)
    def redeem(self, token: str, *, actor: Actor) -> ConsoleTicket:
        """The ticket, once: a second use, a late one or another user's is refused (and an
        attempt by another user spends the ticket, so a leaked one is worth nothing)."""
        with self._lock:
            ticket = self._tickets.pop(token, None)
        return self._spent(ticket, actor)

    @audited(AuditAction.CONSOLE_ISSUE_SERIAL)
    def issue_serial(self, vm_id: str, *, actor: Actor) -> SerialTicket:
        """A ticket for ``actor`` alone to open the serial console of ``vm_id`` once."""
        vm = self.vms.get(vm_id, actor=actor)
        require_vm(actor, vm, "open the serial console of")
        if not vm.status.is_running or vm.host_id is None:
            raise InvalidState(f"VM '{vm.name}' is {vm.status.value}; its serial console "
                               "opens when it runs.")
        now = self._clock.now()
        ticket = SerialTicket(token=secrets.token_urlsafe(32), vm_id=vm.id, vm_name=vm.name,
                              user_id=actor.user_id, expires=now + self.ttl)
        with self._lock:
            self._forget_expired(now)
            self._serial_tickets[ticket.token] = ticket
        self.ctx.events.record(EventCode.CONSOLE_TICKET, f"{actor.name} opened the serial "
                               f"console of VM {vm.name}.", vm_id=vm.id, user=actor.name)
        return ticket

    @audited(AuditAction.CONSOLE_REDEEM_SERIAL)
    def redeem_serial(self, token: str, *, actor: Actor) -> SerialTicket:
        """The serial ticket, once, as ``redeem`` does for displays."""
        with self._lock:
            ticket = self._serial_tickets.pop(token, None)
        return self._spent(ticket, actor)

    def _spent(self, ticket: _Ticket | None, actor: Actor) -> _Ticket:
        """What every ticket, just taken from its table, must be to open a console."""
        if ticket is None:
            raise TicketRefused("This console ticket is unknown or was already used.")
        if self._clock.now() > ticket.expires:
            raise TicketRefused("This console ticket has expired; open the console again.")
        if ticket.user_id != actor.user_id:
            raise PermissionDenied("This console ticket was issued to another user.")
        vm = self.ctx.store.vms.find(ticket.vm_id)
        if vm is None or not vm.status.is_running:
            raise InvalidState("The VM of this console ticket is no longer running.")
        return ticket

    def open_serial(self, ticket: SerialTicket) -> SerialSession:
        """Connect to the serial console of a redeemed ticket's VM, where it runs now."""
        vm = self.ctx.store.vms.find(ticket.vm_id)
        if vm is None or vm.host_id is None:
            raise InvalidState("The VM of this console ticket is no longer running.")
        agent = self.ctx.hosts.agent(vm.host_id)
        backlog = agent.serial_backlog(vm.id, limit=SERIAL_BACKLOG)
        return SerialSession(backlog=backlog, connection=agent.open_serial(vm.id))

    def spend(self, ticket: ConsoleTicket) -> None:
        """Once the client has logged in to the display, its password is worth nothing more:
        lock the display with a new random password that has already expired."""
        vm = self.ctx.store.vms.find(ticket.vm_id)
        if vm is None or vm.host_id is None:
            return
        self.ctx.hosts.agent(vm.host_id).set_graphics_password(
            vm.id, protocol=ticket.protocol.value, password=secrets.token_urlsafe(6)[:8],
            valid_until=self._clock.now() - 1)

    def _forget_expired(self, now: float) -> None:
        for token in [t for t, ticket in self._tickets.items() if ticket.expires < now]:
            del self._tickets[token]
        for token in [t for t, found in self._serial_tickets.items() if found.expires < now]:
            del self._serial_tickets[token]


def _names(vm: Vm) -> str:
    return " and ".join(g.value.upper() for g in vm.graphics)


def remote_viewer_file(ticket: ConsoleTicket) -> str:
    """virt-viewer's connection file (``.vv``): the display's address and its one-time
    password."""
    lines = [
        "[virt-viewer]",
        f"type={ticket.protocol.value}",
        f"host={ticket.address}",
        f"port={ticket.port}",
        f"password={ticket.password}",
        f"title={ticket.vm_name} - VirtStick console - press SHIFT+F12 to release the cursor",
        "delete-this-file=1",
        "fullscreen=0",
        "toggle-fullscreen=shift+f11",
        "release-cursor=shift+f12",
    ]
    return "\n".join(lines) + "\n"
