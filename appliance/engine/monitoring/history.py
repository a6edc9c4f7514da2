"""Monitoring history in tiers: fine buckets for a short time, coarse ones for long.

Every measurement is averaged into the current bucket of every tier at once (10 s buckets
kept an hour, 1 min a day, 10 min a month by default), so a coarse bucket is the exact mean
of the raw samples, not a mean of means. Each tier drops buckets older than its span, which
bounds the table: rows <= objects x sum(span / step) over the tiers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from appliance.engine.monitoring.clock import Clock
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


@dataclass(frozen=True)
class Point:
    time: int  # start of the bucket
    count: int  # raw samples averaged into it
    values: Mapping[str, float]


@dataclass
class _Bucket:
    time: int
    count: int
    sums: dict[str, float]
    counts: dict[str, int]

    def add(self, values: Mapping[str, float]) -> None:
        self.count += 1
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value
            self.counts[key] = self.counts.get(key, 0) + 1

    def averages(self) -> dict[str, float]:
        return {k: _compact(self.sums[k] / self.counts[k]) for k in sorted(self.sums)}


class History:
    def __init__(self, db: Database, clock: Clock,
                 tiers: tuple[Tier, ...] = DEFAULT_TIERS) -> None:
        self.db = db
        self.clock = clock
        self.tiers = tiers
        self._open: list[dict[str, _Bucket]] = [{} for _ in tiers]  # tier -> object -> bucket
        self._swept: list[int] = [0 for _ in tiers]
        self._lock = threading.Lock()

    def record(self, measurements: Iterable[Measurement]) -> None:
        """Average each measurement into the current bucket of every tier, then sweep."""
        now = self.clock.now()
        batch = [m for m in measurements if m.values]
        with self._lock, self.db.transaction() as conn:
            for index, tier in enumerate(self.tiers):
                start = int(now // tier.step) * tier.step
                rows = []
                for m in batch:
                    bucket = self._bucket(index, m.object_id, start)
                    bucket.add(m.values)
                    rows.append((index, m.object_id, start, m.kind.value, bucket.count,
                                 json.dumps(bucket.averages(), separators=(",", ":"))))
                conn.executemany("INSERT OR REPLACE INTO history (tier, object_id, time, kind, "
                                 "count, data) VALUES (?, ?, ?, ?, ?, ?)", rows)
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
        rows = self.db.query(
            "SELECT time, count, data FROM history WHERE tier = ? AND object_id = ? "
            "AND time >= ? AND time <= ? ORDER BY time",
            (tier, object_id, int(since // self.tiers[tier].step) * self.tiers[tier].step,
             int(until if until is not None else now)))
        return [Point(int(r["time"]), int(r["count"]), json.loads(r["data"])) for r in rows]

    def tier_for(self, seconds_back: float) -> int:
        for index, tier in enumerate(self.tiers):
            if seconds_back <= tier.span:
                return index
        return len(self.tiers) - 1

    def objects(self, kind: ObjectKind) -> list[str]:
        rows = self.db.query("SELECT DISTINCT object_id FROM history WHERE tier = ? AND "
                             "kind = ?", (len(self.tiers) - 1, kind.value))
        return [str(r["object_id"]) for r in rows]

    def row_count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) AS n FROM history")[0]["n"])

    def _bucket(self, tier: int, object_id: str, start: int) -> _Bucket:
        buckets = self._open[tier]
        bucket = buckets.get(object_id)
        if bucket is not None and bucket.time == start:
            return bucket
        bucket = _Bucket(start, 0, {}, {})
        # After a restart the bucket may already hold samples: carry on from them.
        rows = self.db.query("SELECT count, data FROM history WHERE tier = ? AND "
                             "object_id = ? AND time = ?", (tier, object_id, start))
        if rows:
            count = int(rows[0]["count"])
            averages: dict[str, float] = json.loads(rows[0]["data"])
            bucket = _Bucket(start, count, {k: v * count for k, v in averages.items()},
                             dict.fromkeys(averages, count))
        buckets[object_id] = bucket
        return bucket

    def _forget_closed(self, tier: int, start: int) -> None:
        # Objects gone (VMs stopped or removed) must not keep their last bucket in memory.
        buckets = self._open[tier]
        for object_id in [o for o, b in buckets.items() if b.time < start]:
            del buckets[object_id]


def _compact(value: float) -> float:
    """Six significant digits, whole numbers without ".0": charts need no more, and the JSON
    stays short."""
    if abs(value) >= 1e6 or value == int(value):
        return int(round(value))
    return float(f"{value:.6g}")
