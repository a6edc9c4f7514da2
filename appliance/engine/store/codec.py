"""Model objects to JSON rows and back, driven by the dataclasses' type hints."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def encode(obj: Any) -> str:
    return json.dumps(dataclasses.asdict(obj), separators=(",", ":"))


def decode(cls: type[T], text: str) -> T:
    return _build(cls, json.loads(text))


def _build(cls: type[T], data: dict[str, Any]) -> T:
    converters = _converters(cls)  # type: ignore[arg-type]
    values = {}
    for name, value in data.items():
        if name in converters:
            convert = converters[name]
            values[name] = convert(value) if convert is not None and value is not None else value
    return cls(**values)


Converter = Callable[[Any], Any]


@cache
def _converters(cls: type) -> dict[str, Converter | None]:
    # Worked out once per class: decoding hundreds of rows per request stays cheap.
    return {name: _converter(hint) for name, hint in typing.get_type_hints(cls).items()}


def _converter(hint: Any) -> Converter | None:
    """How to turn a JSON value into ``hint``'s type; None when it already is one."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _converter(inner[0])
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _converter(args[0])
            if item is None:
                return tuple
            return lambda v: tuple(None if x is None else item(x) for x in v)
        items = [_converter(a) for a in args]
        return lambda v: tuple(x if c is None or x is None else c(x)
                               for c, x in zip(items, v, strict=True))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        target: type = hint
        return lambda v: _build(target, v)
    return None
