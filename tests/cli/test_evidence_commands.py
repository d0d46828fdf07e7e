"""The design and meta commands with the names and JSON keys that scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app
from tests.evidence.test_meta import CNEG, CPOS, TNEG, TPOS

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_simon_json_has_optimal_minimax_and_admissible() -> None:
    code, out = run("design", "simon", "--p0", "0.05", "--p1", "0.25", "--alpha", "0.05",
                    "--power", "0.8", "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert {k: data["optimal"][k] for k in ("r1", "n1", "r", "n")} == {
        "r1": 0, "n1": 9, "r": 2, "n": 17}  # fmt: skip
    assert data["minimax"]["n"] == 16
    keys = {"r1", "n1", "r", "n", "en0", "pet0", "alpha", "power"}
    assert keys <= set(data["optimal"]) and all(keys <= set(d) for d in data["admissible"])


def test_predictive_json() -> None:
    code, out = run("design", "predictive", "--a", "0.6", "--b", "0.4", "--responses", "16",
                    "--n", "23", "--nmax", "40", "--p0", "0.6", "--theta-t", "0.9", "--json")  # fmt: skip
    data = json.loads(out)
    assert code == 0
    assert data["predictive_probability"] == pytest.approx(0.5656, abs=5e-5)
    assert 0 < data["posterior_prob_above_p0"] < 1


def test_single_and_two_arm_in_words() -> None:
    assert run("design", "single", "--p0", "0.05", "--p1", "0.25")[1].startswith("n = 16:")
    code, out = run("design", "two-arm", "--p1", "0.3", "--p2", "0.5")
    assert code == 0 and out.startswith("103 per arm")


def _bcg(folder: Path, group: str = "") -> Path:
    """metafor's dat.bcg as a CSV, with an optional column that halves the trials."""
    path = folder / "bcg.csv"
    rows = ["study,events,n,events_c,n_c" + (f",{group}" if group else "")] + [
        f"trial {i},{a},{a + b},{c},{c + d}"
        + (f",{'first' if i <= 6 else 'second'}" if group else "")
        for i, (a, b, c, d) in enumerate(zip(TPOS, TNEG, CPOS, CNEG, strict=True), start=1)
    ]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_meta_json_on_the_measure_scale(tmp_path: Path) -> None:
    path = _bcg(tmp_path)
    code, out = run("meta", str(path), "--measure", "RR", "--tau2", "REML", "--json")
    assert code == 0
    data = json.loads(out)
    for key in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high", "tau2", "i2", "q", "k"):
        assert key in data
    assert (data["pi_low"], data["pi_high"]) == pytest.approx((0.1546, 1.5490), abs=1e-4)
    assert data["k"] == 13


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["design", "simon", "--p0", "0.4", "--p1", "0.2"], "0 < p0 < p1 < 1"),
        (
            [
                "design",
                "predictive",
                "--a",
                "1",
                "--b",
                "1",
                "--responses",
                "5",
                "--n",
                "3",
                "--nmax",
                "10",
                "--p0",
                "0.2",
                "--theta-t",
                "0.9",
            ],
            "0 <= x <= n <= nmax",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(args: list[str], message: str) -> None:
    code, out = run(*args)
    assert code == 1 and message in out and out.count("\n") == 1


def test_meta_names_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("study,events,n\na,1,10\nb,2,12\n")
    code, out = run("meta", str(path), "--measure", "OR")
    assert code == 1 and "missing column(s) events_c, n_c" in out


def test_meta_published_pools_one_stratum_and_refuses_a_mixed_one() -> None:
    code, out = run("meta", "--published", "--index", "PPPASI", "--cutoff", "50", "--weeks",
                    "16-24", "--design", "single_arm", "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["k"] == 2 and data["pooled"].startswith("2 arms of 2 studies")
    code, out = run("meta", "--published", "--index", "PPPASI", "--cutoff", "50")
    assert code == 1 and "not pooled" in out and "--mixed" in out
    assert run("meta")[1].startswith("error") and run("meta")[0] == 1


def test_predictive_boundaries_and_operating_characteristics() -> None:
    code, out = run("design", "predictive", "--a", "0.6", "--b", "0.4", "--responses", "16",
                    "--n", "23", "--nmax", "40", "--p0", "0.6", "--theta-t", "0.9",
                    "--theta-l", "0.05", "--p1", "0.8", "--runs", "2000", "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert data["boundaries"][0] == {"n": 10, "stop_if_at_most": 4}
    null, alternative = data["operating_characteristics"]
    assert null["rate"] == 0.6 and alternative["rate"] == 0.8
    assert null["reject_p0"] < alternative["reject_p0"]


def test_meta_subgroups_leave_one_out_and_egger(tmp_path: Path) -> None:
    path = _bcg(tmp_path, "half")
    code, out = run("meta", str(path), "--measure", "RR", "--tau2", "DL", "--by", "half",
                    "--leave-one-out", "--egger", "--json")  # fmt: skip
    assert code == 0
    data = json.loads(out)
    assert set(data["subgroups"]) >= {"first", "second", "q_between"}
    assert len(data["leave_one_out"]) == 13
    # regtest(rma(yi, vi, data=dat), model="lm") in metafor: t = -1.4013, p = 0.1887
    assert data["egger"]["t"] == pytest.approx(-1.4013, abs=1e-4)
    code, out = run("meta", str(path), "--measure", "RR", "--by", "nosuch")
    assert code == 1 and "no column `nosuch`" in out


def test_meta_mantel_haenszel_matches_metafor(tmp_path: Path) -> None:
    path = _bcg(tmp_path)
    code, out = run("meta", str(path), "--measure", "OR", "--tau2", "MH", "--json")
    assert code == 0
    data = json.loads(out)
    # rma.mh(ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, measure="OR"): b -0.473411
    assert data["mu"] == pytest.approx(-0.473411, abs=1e-6) and data["method"] == "MH"
    code, out = run("meta", str(path), "--measure", "PLO", "--tau2", "MH")
    assert code == 1 and "Mantel-Haenszel pools two arms" in out


def test_meta_published_with_your_rows_and_this_study(tmp_path: Path) -> None:
    own = tmp_path / "own.csv"
    own.write_text("row,study,design,drug,drug_class,region,arm,index,operator,cutoff,week,"
                   "responders,n\nU1,Our series,case_series,tofacitinib,JAK,Europe,treatment,"
                   "PPPASI,>=,50,4,7,9\n")  # fmt: skip
    window = ["--index", "PPPASI", "--cutoff", "50", "--weeks", "0-8", "--json"]
    code, out = run("meta", "--published", *window, "--add", str(own))
    assert code == 0 and json.loads(out)["studies"][-1].startswith("Our series")
    db = ["--database", f"sqlite:///{tmp_path / 'cli.sqlite3'}", "--user", "cli-tester"]
    run(*db, "init")
    run(*db, "demo")
    code, out = run(*db, "meta", "--published", *window, "--with-study")
    data = json.loads(out)
    # the tofacitinib series (6/6 at week 4) and this study's PPPASI50 at week 4 (6/6)
    assert code == 0 and data["k"] == 2
    assert any(s.startswith("TOFA-PPP") for s in data["studies"])
