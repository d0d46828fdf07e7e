"""Dependencies run one way (architecture.md): the import-linter contract in pyproject.toml.

The scoring core must stay pure: no database, web, or CLI import can reach it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_layers_hold() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is a dev dependency; run `uv sync`"
    run = subprocess.run([lint_imports], cwd=ROOT, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_scoring_imports_no_heavy_or_outer_package() -> None:
    code = (
        "import sys, pustula.scoring; "
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'typer', 'pandas', 'polars') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other in a circle (Tarjan's strongly
    connected components with more than one member, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1 or v in edges.get(v, ()):
                found.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_circle_and_only_a_circle() -> None:
    circle = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(circle) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_module_imports_itself_in_a_circle() -> None:
    """Imports inside functions count too: a deferred import hides a circle, it does not
    remove it (the store's five modules and the report's two had one before issue 29)."""
    import grimp

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    graph = grimp.build_graph("pustula")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    assert {"pustula.scoring.pppasi", "pustula.store.db.uow", "pustula.web.app"} <= set(edges)
    assert _cycles(edges) == []
