"""The import directions of docs/ARCHITECTURE.md, checked on the source.

- The engine (every package but ``gui`` and ``commands``, and every top-level module but ``cli``,
  ``__main__`` and ``api``) never imports Qt, the GUI, the command line or the front door.
- The command line (``cli``, ``commands``) and the GUI reach the engine through ``banknote_guard.api``
  only, besides the shared leaf modules; the GUI never imports the command line, and the command line
  imports from the GUI only the Qt-free launcher options (and the app itself, lazily, to start it).
- No package imports another in a cycle.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "banknote_guard"
QT_ROOTS = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}
#: Leaf modules every layer may use: errors, progress reports and cancel tokens, atomic files, JSON values.
SHARED = {"errors", "progress", "fileio", "jsonable", ""}  # "" = the package itself (__version__)
FRONT_ENDS = {"gui", "commands", "cli", "__main__"}
#: What the command line may import from the GUI: its Qt-free options, and the app to start it.
COMMANDS_MAY_USE_FROM_GUI = {"banknote_guard.gui.launcher", "banknote_guard.gui.app"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(["banknote_guard", *parts])] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """Every module ``module`` imports, at the top or inside functions (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            names.add(base)
            for alias in node.names:  # "from banknote_guard.verify import verdict" names a module
                if f"{base}.{alias.name}" in MODULES:
                    names.add(f"{base}.{alias.name}")
    return names


IMPORTS = {m: _imports(m, p) for m, p in MODULES.items()}


def component(module: str) -> str:
    """The room a module belongs to: its sub-package, or the top-level module's own name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _internal(names: set[str]) -> set[str]:
    return {n for n in names if n == "banknote_guard" or n.startswith("banknote_guard.")}


def test_the_engine_imports_no_qt_gui_command_line_or_front_door() -> None:
    offenders = []
    for module, names in IMPORTS.items():
        if component(module) in FRONT_ENDS or component(module) == "api":
            continue
        for name in names:
            if name.split(".")[0] in QT_ROOTS:
                offenders.append(f"{module} imports {name}")
            elif name.startswith("banknote_guard.") and component(name) in FRONT_ENDS | {"api"}:
                offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_front_ends_reach_the_engine_only_through_the_api() -> None:
    offenders = []
    for module, names in IMPORTS.items():
        room = component(module)
        if room not in FRONT_ENDS:
            continue
        for name in _internal(names):
            target = component(name)
            if target in SHARED or target == "api" or target == room:
                continue
            if room in {"commands", "cli", "__main__"} and target in {"commands", "cli"}:
                continue
            if room == "commands" and name in COMMANDS_MAY_USE_FROM_GUI:
                continue
            offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_the_gui_never_imports_the_command_line() -> None:
    for module, names in IMPORTS.items():
        if component(module) == "gui":
            assert not {component(n) for n in _internal(names)} & {"commands", "cli"}, module


def test_the_command_line_imports_qt_only_inside_the_gui_command() -> None:
    # commands/gui.py imports the Qt-free launcher at the top and the app only inside run()
    tree = ast.parse((PACKAGE / "commands" / "gui.py").read_text(encoding="utf-8"))
    top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert "banknote_guard.gui.app" not in top
    code = "import sys, banknote_guard.cli as c; c.build_parser(); print(sorted(m for m in sys.modules if m.startswith('PySide6')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_package_imports_another_in_a_cycle() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, names in IMPORTS.items():
        for name in _internal(names):
            a, b = component(module), component(name)
            if a != b and b != "":
                graph[a].add(b)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*stack[stack.index(nxt):], nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_every_api_name_resolves_to_the_engine_object() -> None:
    from banknote_guard import api

    for name, target in api._EXPORTS.items():
        module_name, _, attr = target.partition(":")
        assert getattr(api, name) is getattr(importlib.import_module(module_name), attr), name
    assert set(api.__all__) >= set(api._EXPORTS)


def test_importing_the_front_door_loads_neither_qt_nor_torch() -> None:
    code = (
        "import sys, banknote_guard.api, banknote_guard.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'torch')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_architecture_document_names_every_package() -> None:
    doc = (PACKAGE.parent / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    rooms = {component(m) for m in MODULES if component(m) not in ("", "__main__")}
    missing = [r for r in sorted(rooms) if f"`{r}" not in doc]
    assert missing == []
