"""Hosts on other machines join with a one-time token: the administrator makes a token, the
other machine's ``virtstick agent --join URL --token T`` sends it with a certificate request
for its libvirtd, gets the certificate signed by the appliance's CA, starts libvirtd with TLS,
and the engine adds it as a host over ``qemu+tls://`` with its own client certificate."""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass

from appliance.engine.audit import audited
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import SYSTEM, Actor, require_superuser
from appliance.engine.context import EngineContext
from appliance.engine.enums import EventSeverity
from appliance.engine.event_codes import EventCode
from appliance.engine.hosts import HostService
from appliance.errors import NotAuthenticated, VirtStickError
from appliance.security import hostcerts

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 3600.0
_USED = "used"


@dataclass(frozen=True)
class JoinReply:
    cert_pem: bytes  # the host's libvirtd server certificate
    ca_pem: bytes


class HostJoining:
    def __init__(self, ctx: EngineContext, *, hosts: HostService,
                 connect_timeout: float = 60.0) -> None:
        self.ctx = ctx
        self.hosts = hosts
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()

    @audited(AuditAction.JOINING_CREATE_TOKEN)
    def create_token(self, *, actor: Actor, lifetime: float = TOKEN_LIFETIME) -> str:
        require_superuser(actor, "let hosts join")
        token = secrets.token_hex(24)  # never starts with "-" (read as an option on a command line)
        self.ctx.store.set_meta(_key(token), str(time.time() + lifetime))
        self.ctx.events.record(
            EventCode.JOIN_TOKEN_CREATED, f"{actor.name} made a one-time token for "
            "a host to join.", user=actor.name)
        return token

    def join(self, token: str, *, name: str, address: str, csr_pem: bytes,
             port: int = 16514) -> JoinReply:
        """Spend the token; sign the host's certificate; add the host once it answers."""
        self._spend(token)
        cert, ca = hostcerts.sign_host_request(self.ctx.config.appliance.state_dir, csr_pem,
                                               address=address)
        pki = hostcerts.client_pki_dir(self.ctx.config.appliance.state_dir)
        where = f"[{address}]" if ":" in address else address
        uri = f"qemu+tls://{where}:{port}/system?pkipath={pki}"
        threading.Thread(target=self._add_when_up, args=(name, address, uri),
                         name=f"join-{name}", daemon=True).start()
        return JoinReply(cert_pem=cert, ca_pem=ca)

    def _spend(self, token: str) -> None:
        with self._lock:
            stored = self.ctx.store.meta(_key(token))
            if stored is None or stored == _USED or float(stored) < time.time():
                raise NotAuthenticated("The join token is not valid: it is unknown, used or "
                                       "expired. Make a new one on the engine.")
            self.ctx.store.set_meta(_key(token), _USED)

    def _add_when_up(self, name: str, address: str, uri: str) -> None:
        deadline = time.monotonic() + self.connect_timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                self.hosts.add(name, uri=uri, address=address, actor=SYSTEM)
                return
            except VirtStickError as exc:
                last = exc.detail
                if "already used" in last:
                    break
            time.sleep(1.0)
        self.ctx.events.record(
            EventCode.HOST_JOIN_FAILED, f"Host {name} ({address}) joined but its "
            f"libvirt did not answer over TLS: {last}",
            severity=EventSeverity.ERROR)


def _key(token: str) -> str:
    return "join-token:" + hashlib.sha256(token.encode()).hexdigest()
