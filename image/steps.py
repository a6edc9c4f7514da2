"""Named build steps with their elapsed time; a failing step names itself and shows its log's end.

Each step writes the output of the commands it runs to its own log file under the build's log
directory, so the terminal stays readable and a failure can point at the whole log.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

from image.errors import ImageError, StepFailed

T = TypeVar("T")
TAIL_LINES = 25


@dataclass(frozen=True)
class StepLog:
    """What a running step may use: its log file and a way to run commands into it."""

    name: str
    path: Path

    def run(
        self,
        argv: Sequence[str | Path],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        stdin: Path | None = None,
    ) -> None:
        command = [str(arg) for arg in argv]
        with self.path.open("a") as log:
            log.write(f"$ {' '.join(command)}\n")
            log.flush()
            source = stdin.open("rb") if stdin else subprocess.DEVNULL
            try:
                result = subprocess.run(
                    command,
                    stdin=source,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=dict(env) if env is not None else None,
                    cwd=cwd,
                )
            except FileNotFoundError:
                raise StepFailed(
                    f"step '{self.name}': {command[0]} is not installed",
                    hint="run 'make setup' to install the host tools",
                ) from None
            finally:
                if stdin:
                    source.close()  # type: ignore[union-attr]
        if result.returncode != 0:
            raise StepFailed(
                f"step '{self.name}' failed: {Path(command[0]).name} exited with "
                f"{result.returncode}\n{tail(self.path)}",
                hint=f"the whole log is {self.path}",
            )

    def note(self, text: str) -> None:
        with self.path.open("a") as log:
            log.write(text.rstrip("\n") + "\n")


@dataclass
class StepRunner:
    """Runs steps in order, printing ``[n/total] name`` and the time each took."""

    log_dir: Path
    out: TextIO
    total: int
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)
    _count: int = 0

    def step(self, name: str, action: Callable[[StepLog], T]) -> T:
        self._count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        log = StepLog(name=name, path=self.log_dir / f"{self._count:02d}-{slug}.log")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log.path.write_text("")
        self._print(f"[{self._count}/{self.total}] {name} ...")
        begin = time.monotonic()
        try:
            result = action(log)
        except ImageError as exc:
            elapsed = time.monotonic() - begin
            self._print(f"[{self._count}/{self.total}] {name}: FAILED after {elapsed:.1f}s")
            if not isinstance(exc, StepFailed):
                raise StepFailed(f"step '{name}' failed: {exc.detail}", hint=exc.hint) from exc
            raise
        except Exception as exc:
            elapsed = time.monotonic() - begin
            self._print(f"[{self._count}/{self.total}] {name}: FAILED after {elapsed:.1f}s")
            log.note(f"{type(exc).__name__}: {exc}")
            raise StepFailed(
                f"step '{name}' failed: {type(exc).__name__}: {exc}\n{tail(log.path)}",
                hint=f"the whole log is {log.path}; rerun with --debug for the traceback",
            ) from exc
        elapsed = time.monotonic() - begin
        self.timings[name] = elapsed
        self._print(
            f"[{self._count}/{self.total}] {name}: done in {elapsed:.1f}s "
            f"(total {time.monotonic() - self.started:.1f}s)"
        )
        return result

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


def tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a log, indented, for an error message."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return f"    (no log at {path})"
    last = text.splitlines()[-lines:]
    return "\n".join(f"    | {line}" for line in last)
