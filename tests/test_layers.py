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
