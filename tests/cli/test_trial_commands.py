"""`pustula trial analyse` and `pustula subject deviation` on the SYNTHETIC demo trial."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'trial.sqlite3'}"
    done = runner.invoke(app, ["--database", url, "demo", "--trial"])
    assert done.exit_code == 0, done.output
    return url


def test_a_blinded_trial_is_not_analysed_by_arm_without_unblinded(database: str) -> None:
    result = runner.invoke(app, ["--database", database, "trial", "analyse"])
    assert result.exit_code == 1
    assert "blinded" in result.output and "TOFA5" not in result.output


def test_the_unblinded_analysis_prints_each_endpoint_with_its_role(database: str) -> None:
    result = runner.invoke(app, ["--database", database, "trial", "analyse", "--unblinded"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Intention to treat: every randomized subject")
    assert "PPPASI50 at week 16 [primary" in result.output
    assert "Cochran–Mantel–Haenszel" in result.output
    assert "SYNTHETIC" in lines[-1]


def test_a_deviation_with_every_answer_wrong_names_every_option(database: str) -> None:
    result = runner.invoke(app, ["--database", database, "subject", "deviation", "T010",
                                 "--kind", "lateness", "--description", " ",
                                 "--on", "2031-01-01"])  # fmt: skip
    assert result.exit_code == 1
    assert "--kind: choose the kind" in result.output
    assert "--description: describe" in result.output
    assert "--on: the date of the deviation cannot be in the future" in result.output


def test_a_recorded_deviation_takes_the_subject_out_of_the_per_protocol_set(
    database: str, tmp_path: Path
) -> None:
    before = runner.invoke(app, ["--database", database, "trial", "analyse", "--unblinded",
                                 "--population", "pp"])  # fmt: skip
    done = runner.invoke(app, ["--database", database, "subject", "deviation", "T010",
                               "--kind", "eligibility", "--description",
                               "baseline TB test was not done", "--on", "2025-03-01"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert '"kind": "Randomized although an eligibility criterion was not met"' in done.output
    after = runner.invoke(app, ["--database", database, "trial", "analyse", "--unblinded",
                                "--population", "pp"])  # fmt: skip

    def total(output: str) -> int:
        first = next(line for line in output.splitlines() if "[primary" in line)
        counts = first.split("]: ")[1].split(";")[0]
        return sum(int(part.split("/")[1]) for part in counts.split(" vs "))

    assert total(after.output) == total(before.output) - 1


def test_the_dmc_reports_are_written_open_and_closed(database: str, tmp_path: Path) -> None:
    from pypdf import PdfReader

    for flag, word in (([], "OPEN: arms pooled"), (["--closed"], "CLOSED: by arm")):
        target = tmp_path / f"dmc{len(flag)}.pdf"
        done = runner.invoke(app, ["--database", database, "trial", "dmc-report", str(target),
                                   *flag])  # fmt: skip
        assert done.exit_code == 0, done.output
        text = " ".join(p.extract_text() or "" for p in PdfReader(target).pages)
        assert word in " ".join(text.split())
        assert ("Placebo twice daily" in text) == bool(flag)


def test_a_two_arm_trial_has_no_interim_look_on_efficacy(database: str) -> None:
    done = runner.invoke(app, ["--database", database, "trial", "interim"])
    assert done.exit_code == 0 and "plans no interim look" in done.output
