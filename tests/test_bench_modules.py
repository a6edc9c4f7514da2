"""Every benchmark module imports and has ``run()``: a broken import once stopped ``make bench``
at tests/bench/imaging.py, so the benchmarks after it never ran."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.bench as package
from tests.bench.__main__ import benchmark_names

NAMES = benchmark_names()


def test_the_runner_finds_every_module() -> None:
    on_disk = {m.name for m in pkgutil.iter_modules(package.__path__)
               if not m.name.startswith("_")}
    assert set(NAMES) == on_disk
    assert {"imaging", "monitoring", "webui"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_module_imports(name: str) -> None:
    module = importlib.import_module(f"tests.bench.{name}")
    assert callable(getattr(module, "run", None)), f"tests/bench/{name}.py has no run()"
