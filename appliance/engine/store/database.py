"""The SQLite database: one connection per thread, WAL, versioned schema migrations.

Migrations are the numbered ``migrations/NNNN_*.sql`` files beside this module; the applied
version is SQLite's ``user_version``. Each runs in one transaction, so a crash mid-way leaves
the previous version intact.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.RLock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # Users' password hashes and tokens live here, in a directory others may traverse
        # (QEMU must reach the disks below it): the file is the owner's only. SQLite gives
        # its journal files the database file's mode.
        path.touch(mode=0o600, exist_ok=True)
        self._migrate()

    @property
    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use joins the outer one."""
        conn = self.connection
        with self._write_lock:
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            self._local.committed = []
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                self._local.committed = None
                raise
            conn.execute("COMMIT")
            done: list[Callable[[], None]] = self._local.committed
            self._local.committed = None
        for callback in done:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this thread's transaction is committed (at once outside
        one; never if it rolls back): others see what it wrote from then on."""
        pending: list[Callable[[], None]] | None = getattr(self._local, "committed", None)
        if pending is None:
            callback()
        else:
            pending.append(callback)

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
        cursor = self.connection.execute(sql, params)
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    @property
    def schema_version(self) -> int:
        version: int = self.connection.execute("PRAGMA user_version").fetchone()[0]
        return version

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _migrate(self) -> None:
        for version, script in _migrations():
            if version <= self.schema_version:
                continue
            with self.transaction() as conn:
                for statement in _statements(script):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version}")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("appliance.engine.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text()))
    versions = [version for version, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two schema migrations share a number: {sorted(versions)}")
    return sorted(found)


def _statements(script: str) -> list[str]:
    # executescript() would commit on its own; split so the migration stays one transaction.
    return [s.strip() for s in script.split(";\n") if s.strip()]
