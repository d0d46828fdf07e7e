"""Every Python example of README.md and docs/ runs as written.

Each file's ``python`` blocks run one after the other in one namespace (later blocks use
what earlier ones made), in a temporary folder, so that an example that writes a database
writes it there. The folder holds what the README's commands before them make:
``pustula demo`` writes the demo study to ``./pustula.sqlite3``. A block that fails names
its file and first line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in BLOCK.finditer(text)]


WITH_EXAMPLES = [p for p in FILES if _blocks(p)]


def test_the_pages_that_teach_python_have_examples() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in WITH_EXAMPLES}
    assert {"README.md", "docs/python.md"} <= names


@pytest.mark.parametrize("path", WITH_EXAMPLES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_examples_run(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pustula.demo import create_demo_study
    from pustula.store import Store

    monkeypatch.chdir(tmp_path)
    demo = Store.open(f"sqlite:///{tmp_path / 'pustula.sqlite3'}")  # `pustula demo`
    demo.create_schema()
    create_demo_study(demo)
    demo.dispose()
    namespace: dict[str, object] = {"__name__": "docs_example"}
    for line, code in _blocks(path):
        try:
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
        except Exception as exc:  # the example's own failure, named by file and line
            pytest.fail(f"{path.relative_to(ROOT)}, the example at line {line}: {exc!r}")
    assert os.getcwd() == str(tmp_path)
