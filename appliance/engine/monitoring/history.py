"""Monitoring history in tiers: fine buckets for a short time, coarse ones for long.

Every measurement is averaged into the current bucket of every tier at once (10 s buckets
kept an hour, 1 min a day, 10 min a month by default), so a coarse bucket is the exact mean
of the raw samples, not a mean of means. Each tier drops buckets older than its span, which
bounds the table: rows <= objects x sum(span / step) over the tiers.

Rows are kept small (a month of 50 VMs is hundreds of thousands of them): an object is a
small integer (``history_series``) and a bucket's averages a JSON array in the order of its
kind's ``COLUMNS``; values not listed there are not kept in history.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from appliance.engine.clock import Clock
from appliance.engine.monitoring.measurements import Measurement, ObjectKind
from appliance.engine.store import Database
from appliance.errors import InvalidInput

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@dataclass(frozen=True)
class Tier:
    step: int  # seconds per bucket
    span: int  # seconds kept


DEFAULT_TIERS = (Tier(step=10, span=HOUR), Tier(step=MINUTE, span=DAY),
                 Tier(step=10 * MINUTE, span=31 * DAY))


# What history keeps of each kind, in stored order: append only, never reorder.
COLUMNS: dict[ObjectKind, tuple[str, ...]] = {
    ObjectKind.VM: ("cpu", "mem_used", "mem_current", "mem_rss", "disk_read", "disk_write",
                    "net_rx", "net_tx", "disk_allocation"),
    ObjectKind.HOST: ("cpu_used", "cpu_user", "cpu_system", "cpu_iowait", "cpu_idle",
                      "load_1m", "mem_total", "mem_used", "mem_free", "mem_buffers",
                      "mem_cached", "swap_used", "ksm_shared", "ksm_saved", "net_rx", "net_tx",
                      "disk_read", "disk_write", "vms_running"),
    ObjectKind.STORAGE_DOMAIN: ("capacity", "used", "free", "committed", "overcommit",
                                "ram_used", "compression_ratio"),
}


@dataclass(frozen=True)
class Point:
    time: int  # start of the bucket
    count: int  # raw samples averaged into it
    values: Mapping[str, float]


@dataclass
class _Bucket:
    columns: tuple[str, ...]
    time: int
    count: int
    sums: dict[str, float]
    counts: dict[str, int]

    def add(self, values: Mapping[str, float]) -> None:
        self.count += 1
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def encoded(self) -> str:
        """The averages as a JSON array in column order, null where a value is missing."""
        values = [_compact(self.sums[k] / self.counts[k]) if k in self.sums else None
                  for k in self.columns]
        return json.dumps(values, separators=(",", ":"))


class History:
    def __init__(self, db: Database, clock: Clock,
                 tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> None:
        self.db = db
        self.clock = clock
        self.tiers = tiers
        self._open: list[dict[int, _Bucket]] = [{} for _ in tiers]  # tier -> series -> bucket
        self._series_ids: dict[str, int] = {}
        self._swept: list[int] = [0 for _ in tiers]
        self._lock = threading.Lock()

    def record(self, measurements: Iterable[Measurement]) -> None:
        """Average each measurement into the current bucket of every tier, then sweep."""
        now = self.clock.now()
        batch = [m for m in measurements if m.values]
        with self._lock, self.db.transaction() as conn:
            series = {m.object_id: self._series(m.object_id, m.kind) for m in batch}
            for index, tier in enumerate(self.tiers):
                start = int(now // tier.step) * tier.step
                rows = []
                for m in batch:
                    bucket = self._bucket(index, series[m.object_id], m.kind, start)
                    bucket.add({k: v for k, v in m.values.items() if k in bucket.columns})
                    rows.append((index, series[m.object_id], start, bucket.count,
                                 bucket.encoded()))
                conn.executemany("INSERT OR REPLACE INTO history (tier, series, time, count, "
                                 "data) VALUES (?, ?, ?, ?, ?)", rows)
                if start != self._swept[index]:
                    self._swept[index] = start
                    conn.execute("DELETE FROM history WHERE tier = ? AND time < ?",
                                 (index, int(now) - tier.span))
                    self._forget_closed(index, start)

    def series(self, object_id: str, *, since: float, until: float | None = None,
               tier: int | None = None) -> list[Point]:
        """The buckets of one object from ``since``, from the finest tier that reaches back
        that far unless ``tier`` is given."""
        now = self.clock.now()
        if tier is None:
            tier = self.tier_for(now - since)
        elif not 0 <= tier < len(self.tiers):
            raise InvalidInput(f"There are tiers 0 to {len(self.tiers) - 1}, not {tier}.")
        found = self.db.query("SELECT id, kind FROM history_series WHERE object_id = ?",
                              (object_id,))
        if not found:
            return []
        columns = COLUMNS[ObjectKind(found[0]["kind"])]
        rows = self.db.query(
            "SELECT time, count, data FROM history WHERE tier = ? AND series = ? "
            "AND time >= ? AND time <= ? ORDER BY time",
            (tier, found[0]["id"], int(since // self.tiers[tier].step) * self.tiers[tier].step,
             int(until if until is not None else now)))
        return [Point(int(r["time"]), int(r["count"]), _decode(columns, r["data"]))
                for r in rows]

    def tier_for(self, seconds_back: float) -> int:
        for index, tier in enumerate(self.tiers):
            if seconds_back <= tier.span:
                return index
        return len(self.tiers) - 1

    def objects(self, kind: ObjectKind) -> list[str]:
        rows = self.db.query("SELECT object_id FROM history_series WHERE kind = ? ORDER BY id",
                             (kind.value,))
        return [str(r["object_id"]) for r in rows]

    def row_count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) AS n FROM history")[0]["n"])

    def _series(self, object_id: str, kind: ObjectKind) -> int:
        known = self._series_ids.get(object_id)
        if known is not None:
            return known
        conn = self.db.connection
        conn.execute("INSERT OR IGNORE INTO history_series (object_id, kind) VALUES (?, ?)",
                     (object_id, kind.value))
        found = int(conn.execute("SELECT id FROM history_series WHERE object_id = ?",
                                 (object_id,)).fetchone()[0])
        self._series_ids[object_id] = found
        return found

    def _bucket(self, tier: int, series: int, kind: ObjectKind, start: int) -> _Bucket:
        buckets = self._open[tier]
        bucket = buckets.get(series)
        if bucket is not None and bucket.time == start:
            return bucket
        columns = COLUMNS[kind]
        bucket = _Bucket(columns, start, 0, {}, {})
        # After a restart the bucket may already hold samples: carry on from them.
        rows = self.db.query("SELECT count, data FROM history WHERE tier = ? AND "
                             "series = ? AND time = ?", (tier, series, start))
        if rows:
            count = int(rows[0]["count"])
            averages = _decode(columns, rows[0]["data"])
            bucket = _Bucket(columns, start, count, {k: v * count for k, v in averages.items()},
                             dict.fromkeys(averages, count))
        buckets[series] = bucket
        return bucket

    def _forget_closed(self, tier: int, start: int) -> None:
        # Objects gone (VMs stopped or removed) must not keep their last bucket in memory.
        buckets = self._open[tier]
        for series in [o for o, b in buckets.items() if b.time < start]:
            del buckets[series]


def _decode(columns: tuple[str, ...], data: str) -> dict[str, float]:
    return {k: v for k, v in zip(columns, json.loads(data), strict=False) if v is not None}


def _compact(value: float) -> float:
    """Whole numbers from 100 up (bytes, bytes per second), four significant digits below
    (percentages, load): charts need no more, and the JSON stays short."""
    if abs(value) >= 100 or value == int(value):
        return int(round(value))
    return float(f"{value:.4g}")
