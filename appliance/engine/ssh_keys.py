"""Users' SSH public keys (oVirt's ``users/{id}/sshpublickeys``, which ``ovirt_user`` sets):
a user manages their own, a SuperUser anyone's. A key is checked as oVirt checks it: a key
type, then its base64 body, which must name the same type, then an optional comment."""

from __future__ import annotations

import base64
import binascii
import builtins
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace

from appliance.engine.audit import audited, audited_read
from appliance.engine.audit_actions import AuditAction
from appliance.engine.authz import Actor
from appliance.engine.context import EngineContext
from appliance.engine.ids import new_id
from appliance.engine.store.tables import Table
from appliance.errors import InvalidInput, NotFound

MAX_KEY = 16 * 1024  # an RSA 16384-bit key is about 2.8 KiB of text
_TYPE = re.compile(r"^[A-Za-z0-9@.\-]{1,64}$")


@dataclass(frozen=True)
class SshPublicKey:
    id: str
    user_id: str
    content: str


class SshKeys:
    def __init__(self, ctx: EngineContext, *, user_exists: Callable[[str], bool]) -> None:
        self.ctx = ctx
        self._user_exists = user_exists
        self.table: Table[SshPublicKey] = Table(ctx.store.db, name="ssh_public_keys",
                                                cls=SshPublicKey, noun="SSH public key",
                                                columns=("user_id",))

    @audited_read(AuditAction.SSH_KEY_LIST)
    def list(self, user_id: str, *, actor: Actor) -> builtins.list[SshPublicKey]:
        return self.table.where(user_id=self._user(user_id, actor))

    @audited_read(AuditAction.SSH_KEY_GET)
    def get(self, user_id: str, key_id: str, *, actor: Actor) -> SshPublicKey:
        for key in self.list(user_id, actor=actor):
            if key.id == key_id:
                return key
        raise NotFound(f"The user has no SSH public key with id '{key_id[:60]}'.")

    @audited(AuditAction.SSH_KEY_ADD)
    def add(self, user_id: str, content: str, *, actor: Actor) -> SshPublicKey:
        key = SshPublicKey(id=new_id(), user_id=self._user(user_id, actor),
                           content=checked(content))
        return self.table.insert(key)

    @audited(AuditAction.SSH_KEY_UPDATE)
    def update(self, user_id: str, key_id: str, content: str, *,
               actor: Actor) -> SshPublicKey:
        key = self.get(user_id, key_id, actor=actor)
        return self.table.update(replace(key, content=checked(content)))

    @audited(AuditAction.SSH_KEY_REMOVE)
    def remove(self, user_id: str, key_id: str, *, actor: Actor) -> None:
        self.table.delete(self.get(user_id, key_id, actor=actor).id)

    def forget_user(self, user_id: str) -> None:
        with self.ctx.store.db.transaction():
            for key in self.table.where(user_id=user_id):
                self.table.delete(key.id)

    def _user(self, user_id: str, actor: Actor) -> str:
        if (not actor.superuser and actor.user_id != user_id) or not self._user_exists(user_id):
            raise NotFound(f"There is no user with id '{user_id[:60]}'.")
        return user_id


def checked(content: str) -> str:
    """``type base64 [comment]``, one key, as in an authorized_keys line."""
    text = content.strip()
    if len(text) > MAX_KEY:
        raise InvalidInput(f"An SSH public key has at most {MAX_KEY} characters.")
    words = text.split(None, 2)
    if "\n" in text or len(words) < 2 or not _TYPE.fullmatch(words[0]):
        raise _invalid()
    try:
        body = base64.b64decode(words[1], validate=True)
        (length,) = struct.unpack(">I", body[:4])
        named = body[4:4 + length].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError, ValueError):
        raise _invalid() from None
    if named != words[0] or len(body) <= 4 + length:
        raise _invalid()
    return text


def _invalid() -> InvalidInput:
    return InvalidInput("Cannot add User Profile. The given SSH public key is invalid: give "
                        "one line as in authorized_keys, such as 'ssh-ed25519 AAAAC3Nz… "
                        "me@laptop'.")
