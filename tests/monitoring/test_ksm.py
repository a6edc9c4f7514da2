"""KSM managed by the engine as ksmtuned does: the policy on its numbers, the host side on a
file tree, and the engine switching this machine's real KSM on and off.

The machine has one KSM, shared with everything else running here: the real-kernel test
saves its settings first and puts them back, whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.config import KsmMode
from appliance.engine.engine import Engine
from appliance.engine.ksm import GiB, KsmPace, MachineMemory, next_tuning
from appliance.errors import HostAgentError
from appliance.vdsm import ksm
from appliance.vdsm.ksm import KsmTuning
from tests.monitoring.conftest import make_config

PACE = KsmPace()
IDLE = KsmTuning(run=False, pages_to_scan=100, sleep_millisecs=20)
REAL_SYS = Path("/sys")


def memory(*, available_gib: float, committed_gib: float, total_gib: float = 8) -> MachineMemory:
    return MachineMemory(total=int(total_gib * GiB), available=int(available_gib * GiB),
                         committed=int(committed_gib * GiB))


def test_plenty_of_memory_keeps_ksm_off() -> None:
    plenty = memory(available_gib=6, committed_gib=2)
    assert next_tuning(KsmMode.AUTO, plenty, IDLE, PACE) == IDLE
    running = KsmTuning(run=True, pages_to_scan=400, sleep_millisecs=10)
    assert next_tuning(KsmMode.AUTO, plenty, running, PACE) == KsmTuning(False, 400, 10)


def test_short_memory_starts_ksm_and_speeds_it_up_to_the_maximum() -> None:
    short = memory(available_gib=1, committed_gib=3)  # under 20 % of 8 GiB free
    tuning = IDLE
    paces = []
    for _ in range(6):
        found = next_tuning(KsmMode.AUTO, short, tuning, PACE)
        assert found is not None and found.run
        tuning = found
        paces.append(tuning.pages_to_scan)
    assert paces == [400, 700, 1000, 1250, 1250, 1250]
    assert tuning.sleep_millisecs == 20  # ksmtuned: 10 ms for 16 GiB, longer when smaller


def test_promised_memory_runs_ksm_at_a_falling_pace() -> None:
    """VMs promised more than 80 % of the RAM: merging, but slowly while memory is free."""
    promised = memory(available_gib=5, committed_gib=7)
    found = next_tuning(KsmMode.AUTO, promised, KsmTuning(True, 400, 20), PACE)
    assert found == KsmTuning(True, 350, 20)
    slowest = next_tuning(KsmMode.AUTO, promised, KsmTuning(True, 80, 20), PACE)
    assert slowest == KsmTuning(True, PACE.minimum, 20)


def test_on_merges_always_and_off_never_decides() -> None:
    plenty = memory(available_gib=6, committed_gib=0, total_gib=32)
    assert next_tuning(KsmMode.ON, plenty, IDLE, PACE) == KsmTuning(True, 400, 10)
    assert next_tuning(KsmMode.OFF, memory(available_gib=0.1, committed_gib=9), IDLE,
                       PACE) is None


def _ksm_tree(root: Path, *, run: int = 0) -> Path:
    folder = root / ksm.KSM_DIR
    folder.mkdir(parents=True)
    for name, value in (("run", run), ("pages_to_scan", 100), ("sleep_millisecs", 20)):
        (folder / name).write_text(f"{value}\n")
    return folder


def test_host_side_writes_only_what_changes(tmp_path: Path) -> None:
    folder = _ksm_tree(tmp_path)
    assert ksm.read_tuning(tmp_path) == IDLE
    (folder / "sleep_millisecs").chmod(0o444)  # unchanged values are not even written
    ksm.apply_tuning(tmp_path, KsmTuning(run=True, pages_to_scan=400, sleep_millisecs=20))
    assert ksm.read_tuning(tmp_path) == KsmTuning(True, 400, 20)
    assert ksm.read_tuning(tmp_path / "nowhere") is None
    with pytest.raises(HostAgentError, match="no KSM"):
        ksm.apply_tuning(tmp_path / "nowhere", IDLE)


@pytest.fixture
def real_ksm() -> Iterator[KsmTuning]:
    saved = ksm.read_tuning(REAL_SYS)
    if saved is None:
        pytest.skip("this kernel has no KSM")
    try:
        ksm.apply_tuning(REAL_SYS, KsmTuning(False, saved.pages_to_scan, saved.sleep_millisecs))
    except HostAgentError as exc:
        pytest.skip(f"KSM is not writable here: {exc.detail}")
    yield saved
    ksm.apply_tuning(REAL_SYS, saved)


def _engine(state_dir: Path, prefix: str, **memory_section: object) -> Engine:
    engine = Engine(make_config(state_dir, prefix, memory={"ksm_interval_seconds": 3600,
                                                           **memory_section}))
    engine.start()
    engine.monitor.wait_rounds(1)
    return engine


def test_engine_switches_the_machines_ksm_on_and_off(real_ksm: KsmTuning, state_dir: Path,
                                                     domain_prefix: str) -> None:
    """A threshold of 99 % makes any machine tight: the engine starts KSM at a raised pace
    and says so; at 1 % nothing is tight and it stops the KSM it started."""
    engine = _engine(state_dir, domain_prefix, ksm_threshold_percent=99)
    try:
        tuning = engine.ksm.adjust()
        assert tuning is not None and tuning.run
        assert ksm.read_tuning(REAL_SYS) == tuning
        assert tuning.pages_to_scan == min(real_ksm.pages_to_scan + 300, 1250)
        started = [e for e in engine.events.recent() if e.code == "ksm_started"]
        assert started and "merges identical memory pages" in started[0].description

        engine.ksm.pace = KsmPace(threshold_percent=1)
        stopped = engine.ksm.adjust()
        assert stopped is not None and not stopped.run
        assert ksm.read_tuning(REAL_SYS) == KsmTuning(False, tuning.pages_to_scan,
                                                      tuning.sleep_millisecs)
        assert any(e.code == "ksm_stopped" for e in engine.events.recent())
    finally:
        engine.stop()


def test_engine_leaves_a_ksm_it_did_not_start(real_ksm: KsmTuning, state_dir: Path,
                                              domain_prefix: str) -> None:
    others = KsmTuning(True, 123, real_ksm.sleep_millisecs)
    ksm.apply_tuning(REAL_SYS, others)  # someone else merges on this machine
    engine = _engine(state_dir, domain_prefix, ksm_threshold_percent=1)
    try:
        assert engine.ksm.adjust() is None
        assert ksm.read_tuning(REAL_SYS) == others
    finally:
        engine.stop()
