"""The architecture's walls, read from the source: the portals reach the engine through its
services only, never through its store (issue 12)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORE_MODULE = "appliance.engine.store"
STORE_ATTRIBUTES = frozenset({"store", "_store", "db", "_db"})
TEMPLATE_STORE = re.compile(r"\.(_?store|_?db)\b")


def store_uses(source: str) -> list[str]:
    """Each import of the store and each ``.store``/``.db`` reach in ``source``: 'line: what'."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if a.name == STORE_MODULE or a.name.startswith(STORE_MODULE + ".")]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {a.name for a in node.names}
            if module == STORE_MODULE or module.startswith(STORE_MODULE + ".") or (
                    module == "appliance.engine" and "store" in names):
                found.append((node.lineno, f"from {module} import {', '.join(sorted(names))}"))
        elif isinstance(node, ast.Attribute) and node.attr in STORE_ATTRIBUTES:
            found.append((node.lineno, f".{node.attr}"))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ("getattr", "setattr") and len(node.args) > 1
              and isinstance(node.args[1], ast.Constant)
              and node.args[1].value in STORE_ATTRIBUTES):
            found.append((node.lineno, f"{node.func.id}(…, {node.args[1].value!r})"))
    return [f"{line}: {what}" for line, what in sorted(found)]


def test_the_store_check_finds_what_it_looks_for() -> None:
    sample = """
from appliance.engine.store.schema import Store
from appliance.engine import store
import appliance.engine.store.tables
rows = engine().store.vms.all()
engine().db.query("SELECT 1")
getattr(engine(), "store")
"""
    assert [line.split(":")[0] for line in store_uses(sample)] == ["2", "3", "4", "5", "6", "7"]
    assert store_uses("engine().vms.list(actor=who)\nheaders['Cache-Control'] = 'no-store'") \
        == []


def test_webui_does_not_touch_the_store() -> None:
    leaks = []
    for path in sorted((ROOT / "webui").rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        leaks += [f"{path.relative_to(ROOT)}:{use}" for use in store_uses(path.read_text())]
    for path in sorted((ROOT / "webui" / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if TEMPLATE_STORE.search(line):
                leaks.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not leaks, "the portals reach into the engine's store:\n" + "\n".join(leaks)
