"""Run every benchmark module (or those named on the command line) and print its figures."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import tests.bench as package


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"tests.bench.{name}")
        print(f"== {name}", flush=True)
        started = time.monotonic()
        for figure in module.run():
            print("  " + figure.line(), flush=True)
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
