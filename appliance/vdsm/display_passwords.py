"""Display passwords that work once: spent as soon as a client has logged in with one.

A console ticket or a ``.vv`` file carries the display's password, valid for seconds (two
minutes for remote-viewer); QEMU would accept it again and again until then. libvirt tells
when a VNC or SPICE client has passed authentication (the graphics event's "initialize"
phase); the password is then replaced by a random one that has already expired, so the
connection made stays and no second one gets in with the same password. A password set
after the login (the next ticket) is left alone.
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

SetPassword = Callable[..., None]  # set_graphics_password(vm_id, *, password, valid_until)


class OneTimeDisplayPasswords:
    def __init__(self, set_password: SetPassword, *, domain_prefix: str) -> None:
        self._set_password = set_password
        self._prefix = domain_prefix
        self._lock = threading.Lock()
        self._changed: dict[str, float] = {}  # vm id -> when its password was last set

    def changed(self, vm_id: str) -> None:
        """Called whenever the agent sets a VM's display password."""
        with self._lock:
            self._changed[vm_id] = time.monotonic()

    def on_graphics(self, uuid: str, name: str, phase: int) -> None:
        """libvirt's graphics event (in its event loop: the work goes to a thread)."""
        if phase != libvirt.VIR_DOMAIN_EVENT_GRAPHICS_INITIALIZE:
            return
        if not name.startswith(self._prefix):
            return  # another service's VM on the same libvirtd
        threading.Thread(target=self.spend, args=(uuid, time.monotonic()),
                         name="display-spend", daemon=True).start()

    def spend(self, vm_id: str, logged_in: float) -> None:
        with self._lock:
            if self._changed.get(vm_id, 0.0) > logged_in:
                return  # a new password since: the next ticket's, not ours to spend
        try:
            self._set_password(vm_id, password=secrets.token_urlsafe(6)[:8],
                               valid_until=time.time() - 1)
        except VirtStickError as exc:
            log.warning("could not spend the display password of VM %s: %s", vm_id,
                        exc.detail)
