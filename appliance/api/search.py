"""oVirt's search language, the part clients use: ``name=myvm``, ``name="my vm"``,
wildcards (``name=web*``), ``and``/``or``, ``!=``, ``<``/``>`` on numbers, ``sortby name desc``
and ``page N``; an optional ``Vms:`` prefix is ignored."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from appliance.api.wildcards import Wildcard
from appliance.errors import InvalidInput, SearchTooComplex

T = TypeVar("T")
Getter = Callable[[Any], object]

_TOKEN = re.compile(r'\s*(?:"(?P<quoted>[^"]*)"|(?P<op>!=|<=|>=|=|<|>)|(?P<word>[^\s=!<>"]+))')
PAGE_SIZE = 100
# A search's cost is objects x conditions x the text compared; these bound the last two
# (clients send a few conditions; the SDK's longest searches are well under 200 characters).
MAX_LENGTH = 1000
MAX_CONDITIONS = 20
MAX_WILDCARDS = 20


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Query:
    any_of: tuple[tuple[Condition, ...], ...]  # OR of ANDs
    sort: str | None = None
    descending: bool = False
    page: int | None = None

    def apply(self, objects: list[T], fields: Mapping[str, Getter], *,
              case_sensitive: bool = True) -> list[T]:
        for group in self.any_of:
            for condition in group:
                if condition.field not in fields:
                    raise InvalidInput(f"Cannot search by '{condition.field[:40]}': use "
                                       f"{', '.join(sorted(fields))}.")
        matchers = [[_matcher(c, fields[c.field], case_sensitive) for c in group]
                    for group in self.any_of]
        found = [o for o in objects
                 if not matchers or any(all(m(o) for m in group) for group in matchers)]
        if self.sort is not None:
            if self.sort not in fields:
                raise InvalidInput(f"Cannot sort by '{self.sort[:40]}': use "
                                   f"{', '.join(sorted(fields))}.")
            getter = fields[self.sort]
            found.sort(key=lambda o: _sort_key(getter(o)), reverse=self.descending)
        if self.page is not None:
            found = found[(self.page - 1) * PAGE_SIZE:self.page * PAGE_SIZE]
        return found


def parse(text: str) -> Query:
    if len(text) > MAX_LENGTH:
        raise SearchTooComplex(f"The search has {len(text)} characters; the limit is "
                               f"{MAX_LENGTH}.")
    tokens = _tokens(text)
    if len(tokens) >= 1 and tokens[0][1].endswith(":") and tokens[0][0] == "word":
        tokens = tokens[1:]  # "Vms: name=x"
    groups: list[tuple[Condition, ...]] = []
    current: list[Condition] = []
    sort: str | None = None
    descending = False
    page: int | None = None
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        lowered = value.lower() if kind == "word" else ""
        if lowered == "and":
            i += 1
        elif lowered == "or":
            groups.append(_group(current, text))
            current = []
            i += 1
        elif lowered == "sortby":
            sort, i = _word(tokens, i + 1, "sortby needs a field name").lower(), i + 2
            if i < len(tokens) and tokens[i][1].lower() in ("asc", "desc"):
                descending = tokens[i][1].lower() == "desc"
                i += 1
        elif lowered == "page":
            number = _word(tokens, i + 1, "page needs a number")
            if not number.isdigit() or int(number) < 1:
                raise InvalidInput(f"page needs a number from 1, not '{number[:20]}'.")
            page, i = int(number), i + 2
        else:
            if kind != "word":
                raise InvalidInput(f"Cannot understand the search '{text[:100]}': expected "
                                   "field=value.")
            op_kind, op = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
            if op_kind != "op" or i + 2 >= len(tokens) or tokens[i + 2][0] == "op":
                raise InvalidInput(f"Cannot understand the search '{text[:100]}' near "
                                   f"'{value[:40]}': expected field=value.")
            current.append(Condition(value.lower(), op, tokens[i + 2][1]))
            i += 3
    if current or groups:
        groups.append(_group(current, text))
    _check_cost(groups)
    return Query(tuple(groups), sort, descending, page)


def _check_cost(groups: list[tuple[Condition, ...]]) -> None:
    conditions = [c for group in groups for c in group]
    if len(conditions) > MAX_CONDITIONS:
        raise SearchTooComplex(f"The search has {len(conditions)} conditions; the limit is "
                               f"{MAX_CONDITIONS}.")
    wildcards = sum(c.value.count("*") for c in conditions)
    if wildcards > MAX_WILDCARDS:
        raise SearchTooComplex(f"The search has {wildcards} wildcards (*); the limit is "
                               f"{MAX_WILDCARDS}.")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise InvalidInput(f"Cannot understand the search '{text[:100]}' at position "
                               f"{position}.")
        kind = match.lastgroup or "word"
        tokens.append(("word" if kind == "quoted" else kind, match.group(kind) or ""))
        position = match.end()
    return tokens


def _word(tokens: list[tuple[str, str]], index: int, message: str) -> str:
    if index >= len(tokens) or tokens[index][0] != "word":
        raise InvalidInput(f"Cannot understand the search: {message}.")
    return tokens[index][1]


def _group(conditions: list[Condition], text: str) -> tuple[Condition, ...]:
    if not conditions:
        raise InvalidInput(f"Cannot understand the search '{text[:100]}': 'or' needs a "
                           "condition on each side.")
    return tuple(conditions)


def _matcher(condition: Condition, getter: Getter,
             case_sensitive: bool) -> Callable[[Any], bool]:
    if condition.op in ("<", ">", "<=", ">="):
        try:
            limit = float(condition.value)
        except ValueError:
            raise InvalidInput(f"'{condition.field}{condition.op}' needs a number, not "
                               f"'{condition.value[:40]}'.") from None
        compare = {"<": float.__lt__, ">": float.__gt__, "<=": float.__le__,
                   ">=": float.__ge__}[condition.op]
        return lambda o: compare(_number(getter(o)), limit)
    pattern = Wildcard.parse(condition.value, case_sensitive=case_sensitive)
    if condition.op == "=":
        return lambda o: pattern.matches(_text(getter(o)))
    return lambda o: not pattern.matches(_text(getter(o)))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def _sort_key(value: object) -> tuple[int, float, str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, _text(value).lower())
