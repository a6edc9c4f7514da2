"""Reading the portals' form fields: whole numbers, sizes and choices, each refused in the
user's terms (``InvalidInput``) so the form's dialog can say what to fix."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from appliance.engine.model import GiB, MiB
from appliance.errors import InvalidInput

Form = Mapping[str, str]
E = TypeVar("E", bound=StrEnum)


def text(form: Form, key: str) -> str:
    return str(form.get(key, "")).strip()


def flag(form: Form, key: str) -> bool:
    """A checkbox: sent (with any value) when ticked."""
    return bool(form.get(key))


def given_number(form: Form, key: str, *, noun: str) -> int | None:
    """None when the field is left empty."""
    raw = text(form, key)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(f"{noun} must be a whole number, not '{raw[:20]}'.") from None


def number(form: Form, key: str, *, default: int, noun: str) -> int:
    found = given_number(form, key, noun=noun)
    return default if found is None else found


def size(form: Form, key: str, *, noun: str, unit: int = GiB) -> int:
    """A size typed in GiB (or ``unit``), which may have decimals: 1.5 is 1536 MiB."""
    raw = text(form, key).replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"{noun} must be a number of {'GiB' if unit == GiB else 'MiB'}, "
                           f"not '{raw[:20]}'.") from None
    if not value > 0 or value > 1 << 20:
        raise InvalidInput(f"{noun} must be more than zero and at most 1048576.")
    return int(value * unit) // MiB * MiB


def choice(form: Form, key: str, kind: type[E], *, noun: str, default: E) -> E:
    raw = text(form, key)
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise InvalidInput(f"'{raw[:20]}' is not a {noun} offered here.") from None
