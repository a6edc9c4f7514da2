"""Display passwords that work once: spent as soon as a client has logged in with one.

A console ticket or a ``.vv`` file carries the password of one of the VM's displays (VNC or
SPICE, each with its own), valid for seconds (two minutes for remote-viewer); QEMU would
accept it again and again until then. libvirt tells when a VNC or SPICE client has passed
authentication (the graphics event's "initialize" phase, with the port the client reached);
that display's password is then replaced by a random one that has already expired, so the
connection made stays and no second one gets in with the same password. A password set
after the login (the next ticket) is left alone, and the other display's is never touched.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

import libvirt

from appliance.errors import VirtStickError

log = logging.getLogger(__name__)

# set_graphics_password(vm_id, *, protocol, password, valid_until)
SetPassword = Callable[..., None]
# The VM's displays as (protocol, port) while it runs.
Displays = Callable[[str], list[tuple[str, int]]]


class OneTimeDisplayPasswords:
    def __init__(self, set_password: SetPassword, displays: Displays, *,
                 domain_prefix: str) -> None:
        self._set_password = set_password
        self._displays = displays
        self._prefix = domain_prefix
        self._lock = threading.Lock()
        self._changed: dict[tuple[str, str], float] = {}  # (vm, protocol) -> last set

    def changed(self, vm_id: str, protocol: str) -> None:
        """Called whenever the agent sets one of a VM's display passwords."""
        with self._lock:
            self._changed[(vm_id, protocol)] = time.monotonic()

    def on_graphics(self, uuid: str, name: str, phase: int, port: str) -> None:
        """libvirt's graphics event (in its event loop: the work goes to a thread)."""
        if phase != libvirt.VIR_DOMAIN_EVENT_GRAPHICS_INITIALIZE:
            return
        if not name.startswith(self._prefix):
            return  # another service's VM on the same libvirtd
        threading.Thread(target=self.spend, args=(uuid, port, time.monotonic()),
                         name="display-spend", daemon=True).start()

    def spend(self, vm_id: str, port: str, logged_in: float) -> None:
        """Spend the password of the display at ``port``; every display's when the port is
        not known (better a second login refused than a password left valid)."""
        try:
            displays = self._displays(vm_id)
        except VirtStickError as exc:
            log.warning("could not read the displays of VM %s: %s", vm_id, exc.detail)
            return
        reached = [protocol for protocol, at in displays if str(at) == port]
        for protocol in reached or [protocol for protocol, _ in displays]:
            with self._lock:
                if self._changed.get((vm_id, protocol), 0.0) > logged_in:
                    continue  # a new password since: the next ticket's, not ours to spend
            try:
                self._set_password(vm_id, protocol=protocol,
                                   password=secrets.token_urlsafe(6)[:8],
                                   valid_until=time.time() - 1)
            except VirtStickError as exc:
                log.warning("could not spend the %s password of VM %s: %s", protocol, vm_id,
                            exc.detail)
