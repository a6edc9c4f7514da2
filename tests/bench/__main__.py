"""Run every benchmark module (or those named on the command line) and print its figures.

A module that fails is reported by name and the others still run; the exit status says
whether all of them ran to the end.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
import traceback

import tests.bench as package


def benchmark_names() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    failed: list[str] = []
    for name in argv or benchmark_names():
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            module = importlib.import_module(f"tests.bench.{name}")
            for figure in module.run():
                print("  " + figure.line(), flush=True)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            print(f"   FAILED: {name}", flush=True)
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
