"""The SQLite store: migrations are versioned, objects round-trip, writes are atomic."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from appliance.engine.enums import BootDevice, VmStatus
from appliance.engine.model import Vm
from appliance.engine.store import Database
from appliance.engine.store.schema import Store
from appliance.errors import NotFound


def _vm(name: str = "a") -> Vm:
    return Vm(id=f"id-{name}", name=name, cluster_id="c", memory=1 << 30,
              boot=(BootDevice.CDROM, BootDevice.HD))


def test_schema_is_migrated_once_and_versioned(tmp_path: Path) -> None:
    db = Database(tmp_path / "engine.db")
    version = db.schema_version
    assert version >= 1
    db.close()
    again = Database(tmp_path / "engine.db")  # re-opening applies nothing twice
    assert again.schema_version == version
    mode = again.query("PRAGMA journal_mode")[0][0]
    assert mode == "wal"


def test_migrations_are_numbered_one_after_another() -> None:
    """Two branches that each add migration N would leave one of them never applied (the
    version is already N): the numbers must run 1, 2, 3 ... without a repeat or a gap."""
    folder = Path(__file__).resolve().parents[2] / "appliance" / "engine" / "store" / \
        "migrations"
    numbers = sorted(int(p.name.split("_", 1)[0]) for p in folder.glob("*.sql"))
    assert numbers == list(range(1, len(numbers) + 1))


def test_objects_round_trip_with_enums_and_tuples(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "engine.db"))
    vm = store.vms.insert(_vm())
    loaded = store.vms.get(vm.id)
    assert loaded == vm
    assert loaded.boot == (BootDevice.CDROM, BootDevice.HD)
    store.vms.update(replace(vm, status=VmStatus.UP, host_id="h"))
    assert store.vms.where(status=VmStatus.UP)[0].host_id == "h"
    assert store.vms.count(host_id="h") == 1


def test_unknown_id_is_not_found_with_the_noun(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "engine.db"))
    with pytest.raises(NotFound, match="no VM with id 'nope'"):
        store.vms.get("nope")


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = Store(Database(tmp_path / "engine.db"))
    store.vms.insert(_vm("taken"))
    with pytest.raises(sqlite3.IntegrityError), store.db.transaction():
        store.vms.insert(_vm("other"))
        store.vms.insert(replace(_vm("x"), name="taken"))  # unique name violated
    assert store.vms.by_name("other") is None
