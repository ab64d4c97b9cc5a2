"""The house rules of the code base: layers, no import cycles, small modules, no Streamlit in the core."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 600
PACKAGES = ("pannet_core", "board")


def _modules() -> dict[str, Path]:
    """Dotted name -> file of every module in pannet_core and board."""
    out = {}
    for pkg in ("pannet_core", "board"):
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full in modules:
                    found.add(full)
                elif node.module in modules:
                    found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def test_no_import_cycles():
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the path, 2 done
    cycles = []

    def visit(node, path):
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, cycles


def test_project_imports_are_absolute():
    """A relative import would be invisible to the import graph the two tests around this one check."""
    files = [*_modules().values(), *(ROOT / "app_pages").rglob("*.py"), ROOT / "app.py"]
    relative = [str(p.relative_to(ROOT)) for p in files
                if any(isinstance(n, ast.ImportFrom) and n.level for n in ast.walk(ast.parse(p.read_text("utf-8"))))]
    assert not relative, relative


def test_layers_point_down():
    """io below cohort below stats; the core never imports the dashboard."""
    below = {"pannet_core.io": ("pannet_core.cohort", "pannet_core.stats", "pannet_core.figures", "pannet_core.report",
                                "pannet_core.pipeline"),
             "pannet_core.cohort": ("pannet_core.stats", "pannet_core.figures", "pannet_core.report",
                                    "pannet_core.pipeline"),
             "pannet_core.stats": ("pannet_core.figures", "pannet_core.report", "pannet_core.pipeline"),
             "pannet_core": ("board",)}
    wrong = []
    for name, targets in _graph().items():
        for layer, forbidden in below.items():
            if name == layer or name.startswith(layer + "."):
                wrong += [(name, t) for t in targets if any(t == f or t.startswith(f + ".") for f in forbidden)]
    assert not wrong, wrong


def test_core_never_imports_streamlit_or_the_dashboard():
    code = ("import pkgutil, importlib, sys, pannet_core\n"
            "for m in pkgutil.walk_packages(pannet_core.__path__, 'pannet_core.'):\n"
            "    if m.name != 'pannet_core.__main__':\n"
            "        importlib.import_module(m.name)\n"
            "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('streamlit', 'board'))\n"
            "print(len([n for n in sys.modules if n.startswith('pannet_core.')]), bad)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    count, bad = out.stdout.split(" ", 1)
    assert int(count) > 30  # every module was imported
    assert bad.strip() == "[]"


def test_modules_are_at_most_600_lines():
    files = [p for pkg in ("pannet_core", "board", "app_pages") for p in (ROOT / pkg).rglob("*.py")]
    files.append(ROOT / "app.py")
    lines = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in files}
    long = {name: n for name, n in lines.items() if n > MAX_LINES}
    assert not long, long


def _private(attr: str) -> bool:
    return attr.startswith("_") and not attr.startswith("__")


def test_no_module_takes_another_modules_private_names():
    """Neither ``from x import _y`` nor ``x._y`` on an imported project module."""
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        bound = set()  # local names of imported project modules
        for node in ast.walk(tree):
            ours = isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES
            if ours:
                wrong += [(name, node.module, a.name) for a in node.names if _private(a.name)]
                bound.update(a.asname or a.name for a in node.names if f"{node.module}.{a.name}" in modules)
            elif isinstance(node, ast.Import):
                bound.update(a.asname for a in node.names if a.name in modules and a.asname)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and _private(node.attr)):
                wrong.append((name, node.value.id, node.attr))
    assert not wrong, wrong
