"""The engine never imports Qt; only banknote_guard.gui does."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "banknote_guard"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_core_modules_do_not_import_qt() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "gui":
            continue
        if rel.parts[0] == "commands" and rel.name == "gui.py":
            continue  # the `gui` sub-command imports the GUI lazily, inside its function
        for name in _imported_modules(path):
            if name.split(".")[0] in {"PySide6", "shiboken6", "PyQt5", "PyQt6"}:
                offenders.append(f"{rel}: {name}")
    assert offenders == []


def test_gui_and_cli_do_not_import_each_other() -> None:
    for path in (PACKAGE / "gui").rglob("*.py"):
        assert "banknote_guard.cli" not in _imported_modules(path), path
    assert not any(n.startswith("banknote_guard.gui") for n in _imported_modules(PACKAGE / "cli.py"))


def test_importing_the_engine_loads_no_qt() -> None:
    code = (
        "import sys, banknote_guard.api, banknote_guard.cli;"
        "import banknote_guard.cli as c; c.build_parser();"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
