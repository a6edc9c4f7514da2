"""History tiers with an injected clock: exact downsampling, retention, bounded size."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.engine.monitoring import History, ManualClock, Measurement, ObjectKind, Tier
from appliance.engine.monitoring.history import DAY, DEFAULT_TIERS, HOUR, MINUTE
from appliance.engine.store import Database

START = 1_700_000_400.0  # a multiple of 10 minutes: buckets line up with the start


def _vm(object_id: str, cpu: float, now: float) -> Measurement:
    return Measurement(ObjectKind.VM, object_id, object_id, now, {"cpu": cpu, "mem_used": 100})


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(Database(tmp_path / "engine.db"), ManualClock(START))


def _feed(history: History, seconds: int, step: int, cpu: float, *, objects: int = 1) -> None:
    clock = history.clock
    assert isinstance(clock, ManualClock)
    for _ in range(seconds // step):
        history.record(_vm(f"vm{i}", cpu, clock.now()) for i in range(objects))
        clock.advance(step)


def test_a_coarse_bucket_is_the_mean_of_its_raw_samples(history: History) -> None:
    clock = history.clock
    assert isinstance(clock, ManualClock)
    for cpu in (10.0, 20.0, 30.0, 40.0, 50.0, 60.0):  # one minute at 10 s
        history.record([_vm("a", cpu, clock.now())])
        clock.advance(10)
    fine = history.series("a", since=START, tier=0)
    assert [p.values["cpu"] for p in fine] == [10, 20, 30, 40, 50, 60]
    minute = history.series("a", since=START, tier=1)
    assert [(p.time, p.count, p.values["cpu"]) for p in minute] == [(int(START), 6, 35)]
    assert history.series("a", since=START, tier=2)[0].values["cpu"] == 35


def test_each_tier_keeps_its_span_only(history: History) -> None:
    _feed(history, 2 * HOUR, 10, 5.0)
    now = history.clock.now()
    fine = history.series("vm0", since=START, tier=0)
    assert fine[0].time >= now - HOUR - 10
    assert len(fine) <= HOUR // 10 + 1
    # The minute tier still reaches back to the start: it keeps a day.
    assert history.series("vm0", since=START, tier=1)[0].time == START
    assert len(history.series("vm0", since=START, tier=1)) == 2 * HOUR // MINUTE


def test_series_picks_the_finest_tier_that_reaches_back(history: History) -> None:
    _feed(history, 2 * HOUR, 10, 5.0)
    now = history.clock.now()
    assert history.tier_for(10 * MINUTE) == 0
    assert history.tier_for(2 * HOUR) == 1
    assert history.tier_for(40 * DAY) == 2
    recent = history.series("vm0", since=now - 10 * MINUTE)
    assert len(recent) == 60  # 10 s buckets
    older = history.series("vm0", since=now - 2 * HOUR)
    assert len(older) == 2 * HOUR // MINUTE


def test_the_table_is_bounded_by_objects_and_tiers(tmp_path: Path) -> None:
    # Small tiers keep the simulated time short; the bound is the same arithmetic.
    tiers = (Tier(step=10, span=5 * MINUTE), Tier(step=MINUTE, span=30 * MINUTE))
    history = History(Database(tmp_path / "engine.db"), ManualClock(START), tiers)
    _feed(history, 3 * HOUR, 10, 1.0, objects=3)
    bound = 3 * sum(t.span // t.step + 1 for t in tiers)
    assert bound - 6 <= history.row_count() <= bound


def test_a_restart_mid_bucket_carries_on_from_the_stored_average(tmp_path: Path) -> None:
    clock = ManualClock(START)
    db = Database(tmp_path / "engine.db")
    first = History(db, clock)
    for cpu in (10.0, 20.0):
        first.record([_vm("a", cpu, clock.now())])
        clock.advance(10)
    second = History(db, clock)  # a new process: no buckets in memory
    second.record([_vm("a", 60.0, clock.now())])
    minute = second.series("a", since=START, tier=1)
    assert (minute[0].count, minute[0].values["cpu"]) == (3, 30)


def test_default_tiers_are_ten_seconds_a_minute_ten_minutes() -> None:
    assert [(t.step, t.span) for t in DEFAULT_TIERS] == [(10, HOUR), (MINUTE, DAY),
                                                         (10 * MINUTE, 31 * DAY)]
