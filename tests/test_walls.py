"""The architecture's walls, checked on the source: who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path


def test_engine_does_not_import_vdsm_storage() -> None:
    """The engine names storage by ids; only the host agent touches files and runs qemu-img,
    so nothing under ``appliance/engine/`` may import ``appliance.vdsm.storage``."""
    root = Path(__file__).resolve().parent.parent
    forbidden = "appliance.vdsm.storage"
    offenders = []
    modules = sorted((root / "appliance" / "engine").rglob("*.py"))
    assert len(modules) > 20  # the engine is where it is supposed to be
    for module in modules:
        tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            hits = [n for n in names if n == forbidden or n.startswith(forbidden + ".")]
            if hits:
                offenders.append(f"{module.relative_to(root)}:{node.lineno} imports {hits[-1]}")
    assert not offenders, "\n".join(offenders)


def test_ova_and_v2v_do_not_import_each_other() -> None:
    """OVA import and V2V share the pipeline below both (``appliance.engine.imports``)."""
    engine = Path(__file__).resolve().parent.parent / "appliance" / "engine"
    offenders = []
    for room, other in (("ova", "v2v"), ("v2v", "ova")):
        forbidden = f"appliance.engine.{other}"
        for module in sorted((engine / room).rglob("*.py")):
            for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                if any(n == forbidden or n.startswith(forbidden + ".") for n in names):
                    offenders.append(f"{room}/{module.name}:{node.lineno} imports {forbidden}")
    assert not offenders, "\n".join(offenders)
