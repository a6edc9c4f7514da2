"""A typed table of model objects: indexed columns for lookups, the whole object as JSON.

Adding a field to a model needs no migration; a column is added only when the engine must
look things up by that field.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import fields
from enum import Enum
from typing import Any, Generic, TypeVar

from appliance.engine.store import codec
from appliance.engine.store.database import Database
from appliance.errors import NotFound

T = TypeVar("T")


class Table(Generic[T]):
    def __init__(self, db: Database, *, name: str, cls: type[T], noun: str,
                 columns: Iterable[str] = ()) -> None:
        self.db = db
        self.name = name
        self.cls = cls
        self.noun = noun  # for messages: "VM", "disk", ...
        self.columns = ("id", *columns)
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        assert set(self.columns) <= known, f"{name}: columns not in {cls.__name__}"
        self._watchers: tuple[Callable[[T, bool], None], ...] = ()

    def watch(self, watcher: Callable[[T, bool], None]) -> None:
        """Call ``watcher(obj, removed)`` after each write of a row is committed (the
        engine's change feed); it runs in the writer's thread, so it must be quick and must
        not raise."""
        self._watchers = (*self._watchers, watcher)

    def _written(self, obj: T, *, removed: bool = False) -> None:
        for watcher in self._watchers:
            self.db.after_commit(functools.partial(watcher, obj, removed))

    def get(self, id: str) -> T:
        found = self.find(id)
        if found is None:
            raise NotFound(f"There is no {self.noun} with id '{id}'.")
        return found

    def find(self, id: str) -> T | None:
        rows = self.db.query(f"SELECT data FROM {self.name} WHERE id = ?", (id,))
        return codec.decode(self.cls, rows[0]["data"]) if rows else None

    def by_name(self, name: str) -> T | None:
        found = self.where(name=name)
        return found[0] if found else None

    def get_by_name(self, name: str) -> T:
        found = self.by_name(name)
        if found is None:
            raise NotFound(f"There is no {self.noun} named '{name}'.")
        return found

    def where(self, **conditions: Any) -> list[T]:
        clauses = " AND ".join(f"{column} = ?" for column in conditions)
        sql = f"SELECT data FROM {self.name}"
        if clauses:
            sql += f" WHERE {clauses}"
        rows = self.db.query(sql + " ORDER BY rowid", tuple(_sql(v) for v in conditions.values()))
        return [codec.decode(self.cls, row["data"]) for row in rows]

    def all(self) -> list[T]:
        return self.where()

    def count(self, **conditions: Any) -> int:
        clauses = " AND ".join(f"{column} = ?" for column in conditions)
        sql = f"SELECT COUNT(*) AS n FROM {self.name}" + (f" WHERE {clauses}" if clauses else "")
        return int(self.db.query(sql, tuple(_sql(v) for v in conditions.values()))[0]["n"])

    def insert(self, obj: T) -> T:
        names = ", ".join((*self.columns, "data"))
        marks = ", ".join("?" for _ in range(len(self.columns) + 1))
        with self.db.transaction() as conn:
            conn.execute(f"INSERT INTO {self.name} ({names}) VALUES ({marks})", self._row(obj))
        self._written(obj)
        return obj

    def update(self, obj: T) -> T:
        assignments = ", ".join(f"{c} = ?" for c in (*self.columns[1:], "data"))
        row = self._row(obj)
        with self.db.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE {self.name} SET {assignments} WHERE id = ?", (*row[1:], row[0])
            )
            if cursor.rowcount == 0:
                raise NotFound(f"There is no {self.noun} with id '{row[0]}'.")
        self._written(obj)
        return obj

    def delete(self, id: str) -> None:
        last = self.find(id) if self._watchers else None
        with self.db.transaction() as conn:
            conn.execute(f"DELETE FROM {self.name} WHERE id = ?", (id,))
        if last is not None:
            self._written(last, removed=True)

    def _row(self, obj: T) -> tuple[Any, ...]:
        return (*(_sql(getattr(obj, c)) for c in self.columns), codec.encode(obj))


def _sql(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str | int | float) or value is None:
        return value
    return str(value)
