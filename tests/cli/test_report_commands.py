"""``pustula demo && pustula report`` and ``pustula endpoints --json`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader
from typer.testing import CliRunner

from pustula.cli import app

runner = CliRunner()


def test_demo_report_and_endpoints(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'demo.sqlite3'}"]
    assert runner.invoke(app, [*db, "demo"]).exit_code == 0
    result = runner.invoke(app, [*db, "report", "-o", str(tmp_path / "report.pdf")])
    assert result.exit_code == 0, result.output
    assert PdfReader(tmp_path / "report.pdf").pages[0].extract_text().count("SYNTHETIC") >= 1
    out = runner.invoke(app, [*db, "endpoints", "--json"])
    data = json.loads(out.output)
    assert data["synthetic"] is True
    week12 = next(e for e in data["endpoints"] if e["endpoint"] == "PPPASI80_W12")
    assert (
        week12["responders"],
        week12["n"],
        round(100 * week12["ci_low"], 1),
        round(100 * week12["ci_high"], 1),
    ) == (5, 6, 35.9, 99.6)
    assert week12["method"] == "clopper-pearson"


def test_bad_settings_are_refused_before_any_work(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'demo.sqlite3'}"]
    runner.invoke(app, [*db, "demo"])
    result = runner.invoke(app, [*db, "endpoints", "--imputation", "BOCF"])
    assert result.exit_code == 1
    assert result.output == (
        "error [analysis_invalid]: imputation must be one of 'OC', 'LOCF', 'LOCF_BASELINE', 'NRI'; got 'BOCF'\n"
    )
    # never a guess: lower case is not NRI, "=>" is not ">", alpha 0.2 is allowed but labelled
    result = runner.invoke(app, [*db, "endpoints", "--imputation", "nri"])
    assert result.exit_code == 1 and "got 'nri'" in result.output
    result = runner.invoke(app, [*db, "endpoints", "--operator", "=>"])
    assert (
        result.output == "error [analysis_invalid]: operator must be one of '>=', '>'; got '=>'\n"
    )
    result = runner.invoke(app, [*db, "endpoints", "--alpha", "1.5"])
    assert result.exit_code == 1 and "alpha" in result.output
    result = runner.invoke(app, [*db, "report", "-o", str(tmp_path / "report.txt")])
    assert result.output.startswith("error [data_invalid]: -o must end in .html, .pdf or .docx")
    result = runner.invoke(app, [*db, "report", "-o", str(tmp_path / "nowhere" / "report.pdf")])
    assert result.exit_code == 1
    assert result.output.startswith("error [data_invalid]: the folder")
