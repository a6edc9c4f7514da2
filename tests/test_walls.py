"""The architecture's walls, read from the source (issue 12): the faces (API, portals, CLI,
metrics) reach the engine through its services only, never its store or its context; the
engine names storage by ids and never imports the host agent's storage package; OVA import
and V2V share a pipeline below both."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "appliance" / "engine"
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


API = ROOT / "appliance" / "api"
# The faces besides the API and the portals: the CLI and its client, the WSGI app, the
# service's main loop and the Prometheus exporter.
OTHER_FACES = tuple(ROOT / "appliance" / name for name in (
    "cli.py", "cli_vms.py", "cli_hosts.py", "cli_users.py", "client.py", "web.py",
    "server.py", "metrics.py"))


def test_the_api_and_other_faces_do_not_touch_the_store() -> None:
    modules = sorted(API.rglob("*.py"))
    assert len(modules) > 30  # the API is where it is supposed to be
    leaks = []
    for path in [*modules, *OTHER_FACES]:
        leaks += [f"{path.relative_to(ROOT)}:{use}" for use in store_uses(path.read_text())]
    assert not leaks, "a face reaches into the engine's store:\n" + "\n".join(leaks)


def test_faces_do_not_reach_past_the_services() -> None:
    """``engine.ctx`` is what services are built with (store, host agents, locks): a face
    that holds it has gone round the services."""
    leaks = []
    for path in [*sorted(API.rglob("*.py")), *sorted((ROOT / "webui").rglob("*.py")),
                 *OTHER_FACES]:
        if "node_modules" in path.parts:
            continue
        leaks += [f"{path.relative_to(ROOT)}:{node.lineno}: .ctx"
                  for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, ast.Attribute) and node.attr == "ctx"]
    assert not leaks, "\n".join(leaks)


def test_the_engine_keeps_its_store_private() -> None:
    """Faces could not reach the store even by mistake: the engine holds it as ``_store``
    (services have it through their context; tests that inspect rows use ``engine.ctx``)."""
    tree = ast.parse((ENGINE / "engine.py").read_text())
    public = {target.attr for node in ast.walk(tree) if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Attribute)
              and isinstance(target.value, ast.Name) and target.value.id == "self"}
    assert not public & {"store", "db"}
    assert {"_store", "_db"} <= public


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Each absolute import in ``tree`` as (line, module), ``from m import n`` as ``m.n`` too."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def imports_of(folder: Path, forbidden: str) -> list[str]:
    """Where modules under ``folder`` import ``forbidden`` or anything below it."""
    offenders = []
    for module in sorted(folder.rglob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        offenders += [f"{module.relative_to(ROOT)}:{line} imports {name}"
                      for line, name in imported_modules(tree)
                      if name == forbidden or name.startswith(forbidden + ".")]
    return sorted(set(offenders))


def test_engine_does_not_import_vdsm_storage() -> None:
    """The engine names storage by ids; only the host agent touches files and runs qemu-img,
    so nothing under ``appliance/engine/`` may import ``appliance.vdsm.storage``."""
    assert len(list(ENGINE.rglob("*.py"))) > 20  # the engine is where it is supposed to be
    offenders = imports_of(ENGINE, "appliance.vdsm.storage")
    assert not offenders, "\n".join(offenders)


def test_ova_and_v2v_do_not_import_each_other() -> None:
    """OVA import and V2V share the pipeline below both (``appliance.engine.imports``)."""
    offenders = (imports_of(ENGINE / "ova", "appliance.engine.v2v")
                 + imports_of(ENGINE / "v2v", "appliance.engine.ova"))
    assert not offenders, "\n".join(offenders)
