"""Benchmarks: each module here has ``run() -> list[Figure]`` and prints ratios against a
baseline measured in the same run. ``make bench`` runs them all; ``python -m tests.bench NAME``
runs one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None  # same unit, measured in the same run
    target: str = ""

    def line(self) -> str:
        text = f"{self.name}: {self.value:.3f} {self.unit}"
        if self.baseline:
            ratio = self.value / self.baseline
            text += f" (baseline {self.baseline:.3f} {self.unit}, ratio {ratio:.2f}x)"
        if self.target:
            text += f" [target {self.target}]"
        return text
