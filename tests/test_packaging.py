"""Packaging: the core a notebook user installs (``pip install pustula``) imports without
the extras (web server, PDF and Word, PostgreSQL driver, exchange formats), and every
package Pustula's source imports is declared.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parent.parent
EXTRAS_ONLY = ("fastapi", "uvicorn", "starlette", "multipart", "itsdangerous", "weasyprint",
               "docx", "psycopg", "pyreadstat", "openpyxl", "redcap", "fhir", "odmlib",
               "xmlschema")  # fmt: skip
CORE = ("pustula.scoring", "pustula.protocol", "pustula.checks", "pustula.store",
        "pustula.store.transfer.extract", "pustula.analysis", "pustula.evidence", "pustula.design",
        "pustula.demo")  # fmt: skip


def test_the_core_imports_without_any_extra() -> None:
    """Run in a fresh interpreter in which importing any extra's package fails."""
    code = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {EXTRAS_ONLY!r}:
            raise ImportError("not installed: " + name)
sys.meta_path.insert(0, Missing())
for module in {CORE!r}:
    __import__(module)
from pustula.scoring import compute_pga
assert compute_pga(2).total == 2
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]


# import name -> distribution name, where they differ
DISTRIBUTIONS = {"yaml": "pyyaml", "sklearn": "scikit-learn", "docx": "python-docx",
                 "redcap": "pycap", "fhir": "fhir-resources", "argon2": "argon2-cffi",
                 "multipart": "python-multipart", "pydantic_settings": "pydantic-settings",
                 "PIL": "pillow", "pillow_heif": "pillow-heif",
                 "prometheus_client": "prometheus-client"}  # fmt: skip


def test_every_imported_package_is_declared() -> None:
    """``xmlschema`` was imported by the source but declared nowhere: it worked only
    because another package pulled it in."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        req.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
        for req in [*project["dependencies"],
                    *(r for extra in project["optional-dependencies"].values() for r in extra)]
    }  # fmt: skip
    stdlib = set(sys.stdlib_module_names)
    imported: set[str] = set()
    for path in (ROOT / "src" / "pustula").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in stdlib and m != "pustula"}
    missing = {m for m in third_party if DISTRIBUTIONS.get(m, m).lower() not in declared}
    assert missing == set()
