"""Progress: every step is named with its time; a failing one names itself and its log's end."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from image.errors import StepFailed
from image.steps import StepLog, StepRunner


def test_steps_print_names_and_times(tmp_path: Path) -> None:
    out = io.StringIO()
    runner = StepRunner(log_dir=tmp_path / "logs", out=out, total=2)
    assert runner.step("say hello", lambda log: log.run(["echo", "hello"])) is None
    assert runner.step("compute", lambda log: 42) == 42
    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/2] say hello ..."
    assert lines[1].startswith("[1/2] say hello: done in ") and "(total " in lines[1]
    assert lines[3].startswith("[2/2] compute: done in ")
    assert set(runner.timings) == {"say hello", "compute"}
    assert "hello" in (tmp_path / "logs" / "01-say-hello.log").read_text()


def test_a_failing_step_names_itself_and_shows_the_end_of_its_log(tmp_path: Path) -> None:
    out = io.StringIO()
    runner = StepRunner(log_dir=tmp_path, out=out, total=1)
    script = "for i in $(seq 100); do echo line $i; done; echo 'E: boom' >&2; exit 3"

    def failing(log: StepLog) -> None:
        log.run(["sh", "-c", script])

    with pytest.raises(StepFailed) as caught:
        runner.step("fetch packages", failing)
    detail = caught.value.detail
    assert detail.startswith("step 'fetch packages' failed: sh exited with 3")
    assert "| E: boom" in detail and "| line 100" in detail and "| line 10\n" not in detail
    assert str(tmp_path / "01-fetch-packages.log") in caught.value.hint
    assert "fetch packages: FAILED after" in out.getvalue()


def test_a_missing_program_and_a_python_error_are_step_failures(tmp_path: Path) -> None:
    runner = StepRunner(log_dir=tmp_path, out=io.StringIO(), total=2)
    with pytest.raises(StepFailed, match="not-a-program-here is not installed"):
        runner.step("tools", lambda log: log.run(["not-a-program-here"]))

    def broken(log: StepLog) -> None:
        raise FileNotFoundError("/nowhere/vmlinuz")

    with pytest.raises(StepFailed, match="step 'extract' failed: FileNotFoundError"):
        runner.step("extract", broken)
