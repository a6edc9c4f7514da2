"""Identifiers the engine hands out: UUIDs for objects, MAC addresses for NICs."""

from __future__ import annotations

import secrets
import uuid


def new_id() -> str:
    return str(uuid.uuid4())


def new_mac() -> str:
    # oVirt's default MAC pool range starts 56:6f: a locally administered unicast prefix.
    tail = secrets.token_bytes(4)
    return "56:6f:" + ":".join(f"{b:02x}" for b in tail)
