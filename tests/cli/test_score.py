"""``pustula instruments`` and ``pustula score`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pustula.cli import app
from pustula.cli import score as score_module
from pustula.scoring import get_instrument

runner = CliRunner()

WORKED_EXAMPLE = {
    "right_palm": {"erythema": 2, "pustules": 3, "desquamation": 1, "area_pct": 25},
    "left_palm": {"erythema": 1, "pustules": 1, "desquamation": 1, "area_pct": 5},
    "right_sole": {"erythema": 3, "pustules": 4, "desquamation": 2, "area_pct": 60},
    "left_sole": {"erythema": 0, "pustules": 0, "desquamation": 0, "area_pct": 0},
}


def flat_row(**override: float) -> dict[str, float]:
    row = {f"{r}_{k}": v for r, fields in WORKED_EXAMPLE.items() for k, v in fields.items()}
    return {**row, **override}


def test_instruments_lists_every_registered_instrument() -> None:
    result = runner.invoke(app, ["instruments"])
    assert result.exit_code == 0
    for name in ("pppasi", "pga", "pga_composite", "dlqi", "pain_nrs", "itch_nrs"):
        assert f"\n{name} " in f"\n{result.stdout}"


def test_score_json_prints_the_worked_example_total() -> None:
    result = runner.invoke(app, ["score", "pppasi", "--json", json.dumps(WORKED_EXAMPLE)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"] == 13.8
    assert data["subscores"]["right_sole"] == 10.8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["score", "pppasi", "--json", "{"], "error [scoring_input]: --json is not valid JSON"),
        (
            ["score", "pppasi", "--json", "[1]"],
            "error [scoring_input]: --json must be a JSON object; got list",
        ),
        (
            ["score", "pasi", "--json", "{}"],
            "error [unknown_instrument]: no instrument named 'pasi'",
        ),
        (
            ["score", "pga", "--json", '{"pga": 5}'],
            "error [scoring_input]: PGA grade must be a whole number from 0 to 4; got 5",
        ),
        (["score", "pga"], "error [scoring_input]: give either INPUT_FILE or --json"),
        (
            ["score", "pga", "missing.csv", "-o", "out.csv"],
            "error [scoring_input]: input file missing.csv does not exist",
        ),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_file_appends_prefixed_score_columns(tmp_path: Path, suffix: str) -> None:
    source, target = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    frame = pd.DataFrame(
        [
            {"subject": "PPP-001", **flat_row()},
            {"subject": "PPP-002", **flat_row(left_sole_area_pct=95, left_sole_erythema=4)},
        ]
    )
    frame.to_csv(source, index=False) if suffix == ".csv" else frame.to_parquet(source)
    result = runner.invoke(app, ["score", "pppasi", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    out = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
    assert out["subject"].tolist() == ["PPP-001", "PPP-002"]
    # Row 2 adds the left sole: 0.3 * (4+0+0) * 6 = 7.2 -> 13.8 + 7.2 = 21.0
    assert out["pppasi_total"].tolist() == [13.8, 21.0]
    assert out["pppasi_left_sole_area_score"].tolist() == [0, 6]


def test_a_file_with_one_bad_row_writes_nothing(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame([flat_row(), flat_row(right_palm_erythema=9)]).to_csv(source, index=False)
    result = runner.invoke(app, ["score", "pppasi", str(source), "-o", str(target)])
    assert result.exit_code == 1
    assert (
        "row 2, column 'right_palm_erythema': must be a whole number from 0 to 4; got 9"
        in result.stderr
    )
    assert not target.exists()


def test_collect_mode_writes_per_row_errors(tmp_path: Path) -> None:
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.DataFrame([flat_row(), flat_row(right_palm_erythema=9)]).to_csv(source, index=False)
    result = runner.invoke(
        app, ["score", "pppasi", str(source), "-o", str(target), "--errors", "collect"]
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(target)
    assert out["pppasi_total"].iloc[0] == 13.8
    assert pd.isna(out["pppasi_total"].iloc[1])
    assert (
        out["pppasi_error"].iloc[1]
        == "right_palm_erythema: must be a whole number from 0 to 4; got 9"
    )


def test_chunked_scoring_keeps_file_row_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(score_module, "PROGRESS_ROWS", 3)
    frame = pd.DataFrame({"pga": [0, 1, 2, 3, 4, 4, 9, 2]})
    with pytest.raises(Exception, match="row 7, column 'pga'"):
        score_module.score_file(get_instrument("pga"), frame, errors="raise", progress=False)
    good = frame.assign(pga=[0, 1, 2, 3, 4, 4, 1, 2])
    out = score_module.score_file(get_instrument("pga"), good, errors="raise", progress=True)
    assert out["pga_total"].tolist() == [0, 1, 2, 3, 4, 4, 1, 2]


def test_the_cli_starts_without_the_heavy_packages() -> None:
    """`pustula --help` stays fast because no command imports pandas, NumPy or SQLAlchemy
    until it runs (the timing itself is measured in benchmarks/bench_cli.py)."""
    import subprocess
    import sys

    code = (
        "import sys, pustula.cli; "
        "print(sorted(m for m in ('pandas', 'numpy', 'sqlalchemy', 'scipy', 'matplotlib') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
