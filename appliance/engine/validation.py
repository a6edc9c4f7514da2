"""Checks of user input that several services share, each failing with a clear message."""

from __future__ import annotations

import re

from appliance.engine.model import MiB
from appliance.errors import InvalidInput

_NAME = re.compile(r"^[\w][\w.\-]{0,63}$")
MIN_MEMORY = 16 * MiB


def name(value: str, *, noun: str) -> str:
    """Names become file and domain names: no separators, control characters or spaces."""
    if not value:
        raise InvalidInput(f"The {noun} needs a name.")
    if not _NAME.fullmatch(value):
        raise InvalidInput(
            f"'{_printable(value)}' is not a valid {noun} name: use up to 64 letters, digits, "
            "'.', '-' or '_', starting with a letter, digit or '_'."
        )
    return value


def memory(value: int) -> int:
    if value < MIN_MEMORY:
        raise InvalidInput(
            f"Memory must be at least {MIN_MEMORY // MiB} MiB; {_size(value)} was asked for."
        )
    return value


def positive_size(value: int, *, noun: str = "disk") -> int:
    if value <= 0:
        raise InvalidInput(f"The {noun} size must be more than zero; {value} bytes was asked for.")
    return value


def count(value: int, *, noun: str, maximum: int = 512) -> int:
    if not 1 <= value <= maximum:
        raise InvalidInput(f"The number of {noun} must be between 1 and {maximum}, not {value}.")
    return value


def _printable(value: str) -> str:
    return value.encode("unicode_escape").decode("ascii")[:80]


def _size(value: int) -> str:
    if abs(value) >= MiB:
        return f"{value / MiB:.0f} MiB"
    return f"{value} bytes"


def human_size(value: int) -> str:
    """Sizes in the one pair of units the portals and messages use: GiB, else MiB."""
    if abs(value) >= 1024 * MiB:
        return f"{value / (1024 * MiB):.1f} GiB"
    if value == 0:
        return "0 MiB"
    if abs(value) < MiB // 10:
        return f"{'-' if value < 0 else ''}< 0.1 MiB"
    return f"{value / MiB:.1f} MiB"
