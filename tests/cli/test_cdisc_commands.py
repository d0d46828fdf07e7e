"""The CDISC and ODM commands as a user runs them: SDTM and ADaM folders that pass the check,
a check that fails with one line per finding, and ODM out and into a new study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app
from tests.store.helpers import BASELINE, LABS, PRIOR, PROTOCOL

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def demo(tmp_path: Path) -> list[str]:
    db = ["--database", f"sqlite:///{tmp_path / 'cli.sqlite3'}", "--user", "cli-tester"]
    run(*db, "init")
    run(*db, "demo")
    return db


def test_sdtm_and_adam_folders_pass_the_check(demo: list[str], tmp_path: Path) -> None:
    code, out = run(*demo, "cdisc", "sdtm", str(tmp_path / "sdtm"))
    assert code == 0, out
    assert out.startswith("17 datasets (DM, DS, SV, EX, CM, MH, AE, LB, QS, SUPPDM, SUPPAE, ")
    assert "SYNTHETIC demo data" in out
    assert run("cdisc", "check", str(tmp_path / "sdtm")) == (
        0,
        f"{tmp_path / 'sdtm'}: no findings\n",
    )
    code, out = run(*demo, "cdisc", "adam", str(tmp_path / "adam"))
    assert (code, out.split(" and define")[0]) == (0, "2 datasets (ADSL, ADQS)")
    assert run("cdisc", "check", str(tmp_path / "adam"))[0] == 0
    assert {p.name for p in (tmp_path / "adam").iterdir()} == {
        "adsl.xpt",
        "adqs.xpt",
        "define.xml",
        "SYNTHETIC-DATA.txt",
    }


def test_the_check_fails_naming_dataset_row_and_variable(tmp_path: Path) -> None:
    db = ["--database", f"sqlite:///{tmp_path / 'cli.sqlite3'}", "--user", "cli-tester"]
    run(*db, "init")
    # a protocol that names no country, which DM.COUNTRY requires
    protocol = tmp_path / "protocol.yaml"
    text = PROTOCOL.read_text(encoding="utf-8")
    protocol.write_text(
        "\n".join(ln for ln in text.splitlines() if not ln.startswith("country:")), encoding="utf-8"
    )
    assert run(*db, "study", "add", str(protocol), "--site", "A=Site A")[0] == 0
    data = json.dumps({"baseline": BASELINE, "prior_therapies": PRIOR, "screening_labs": LABS})
    assert (
        run(
            *db,
            "subject",
            "enrol",
            "S01",
            "--site",
            "A",
            "--screened-on",
            "2024-02-26",
            "--data",
            data,
        )[0]
        == 0
    )
    run(*db, "cdisc", "sdtm", str(tmp_path / "sdtm"))
    code, out = run("cdisc", "check", str(tmp_path / "sdtm"))
    assert code == 1
    assert "DM row 1, COUNTRY: required value is null" in out


def test_a_folder_without_datasets_is_one_line_and_exit_1(tmp_path: Path) -> None:
    code, out = run("cdisc", "check", str(tmp_path))
    assert code == 1 and out.count("\n") == 1 and "no .xpt files" in out


def test_odm_out_and_into_a_new_study(demo: list[str], tmp_path: Path) -> None:
    path = tmp_path / "study.xml"
    assert run(*demo, "odm", "export", str(path)) == (0, f"6 subjects written to {path}\n")
    other = ["--database", f"sqlite:///{tmp_path / 'other.sqlite3'}", "--user", "importer"]
    run(*other, "init")
    run(*other, "study", "add", str(PROTOCOL), "--site", "SITE1=One", "--site", "SITE2=Two")
    code, out = run(*other, "odm", "import", str(path), "--reason", "migration")
    assert (code, out) == (0, f"imported 6 subjects with 24 visits from {path}\n")
    code, out = run(*other, "odm", "import", str(path), "--reason", "again")
    assert code == 1 and "subject S01 already exists" in out


@pytest.mark.parametrize("group", ["cdisc", "odm"])
def test_every_command_has_help(group: str) -> None:
    code, out = run(group, "--help")
    assert code == 0
    for command in {"cdisc": ("sdtm", "adam", "check"), "odm": ("export", "import")}[group]:
        assert command in out
