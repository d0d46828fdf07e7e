"""The store commands as a user runs them: init, study, enrol, visit, AE, lab, export."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pustula.cli import app
from tests.store.helpers import BASELINE, LABS, PRIOR, PROTOCOL, pppasi

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--database", f"sqlite:///{tmp_path / 'cli.sqlite3'}", "--user", "cli-tester"]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_study_from_init_to_export(db: list[str], tmp_path: Path) -> None:
    assert run(*db, "init")[0] == 0
    assert run(*db, "study", "add", str(PROTOCOL), "--site", "A=Site A") == (
        0,
        "study TOFA-PPP created with 1 site(s)\n",
    )
    enrolment = json.dumps({"baseline": BASELINE, "prior_therapies": PRIOR, "screening_labs": LABS})
    assert run(*db, "subject", "enrol", "S01", "--site", "A", "--screened-on", "2024-02-26", "--data", enrolment) == (
        0, "subject S01: enrolled\n",
    )  # fmt: skip
    dose = json.dumps(
        {
            "drug": "tofacitinib",
            "dose": 5,
            "unit": "mg",
            "frequency": "twice daily",
            "start_date": "2024-03-04",
        }
    )
    assert run(*db, "exposure", "add", "--subject", "S01", "--data", dose)[0] == 0
    items = tmp_path / "w4.json"
    items.write_text(json.dumps(pppasi(e=1, p=1, d=1, area=5)))
    code, out = run(*db, "visit", "record", "--subject", "S01", "--visit", "W4", "--date", "2024-04-02",
                    "--assessment", f"pppasi={items}", "--assessment", 'pga={"pga": 1}')  # fmt: skip
    assert code == 0, out
    assert json.loads(out) == {"visit": "W4", "study_day": 29, "window": "in_window"}
    lab = json.dumps(
        {"test": "neutrophils", "value": 0.8, "unit": "10^9/L", "sample_date": "2024-04-02"}
    )
    code, out = run(*db, "lab", "add", "--subject", "S01", "--data", lab)
    assert json.loads(out)["alerts"][0]["rule"] == "L_ANC_LOW"
    ae = json.dumps(
        {
            "term": "Acne",
            "start_date": "2024-03-20",
            "grade": 1,
            "relatedness": "probable",
            "action_taken": "none",
            "outcome": "recovering",
        }
    )
    code, out = run(*db, "ae", "add", "--subject", "S01", "--data", ae)
    assert json.loads(out)["treatment_emergent"] is True
    assert run(*db, "audit", "verify")[1].startswith("audit trail verified: ")
    code, out = run(*db, "export", str(tmp_path / "bundle"))
    assert code == 0 and (tmp_path / "bundle" / "assessment.csv").is_file()
    history = json.loads(run(*db, "audit", "log", "--table", "assessment")[1])
    assert {h["user"] for h in history} == {"cli-tester"}


def test_a_screen_failure_prints_its_reasons(db: list[str]) -> None:
    run(*db, "init")
    run(*db, "study", "add", str(PROTOCOL), "--site", "A=Site A")
    data = json.dumps(
        {"baseline": BASELINE | {"age": 16}, "prior_therapies": PRIOR, "screening_labs": LABS}
    )
    code, out = run(
        *db, "subject", "enrol", "S02", "--site", "A", "--screened-on", "2024-02-26", "--data", data
    )
    assert (code, out) == (
        0,
        "subject S02: screen failure\n  Inclusion I1 not met: Age 16 years; inclusion needs ≥ 18 years\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["visit", "record", "--subject", "S99", "--visit", "W4", "--date", "2024-04-02"],
            "error [record_not_found]: subject S99 is not in study TOFA-PPP",
        ),
        (
            ["visit", "record", "--subject", "S01", "--visit", "W4", "--date", "2 April"],
            "error [data_invalid]: --date must be a date YYYY-MM-DD; got `2 April`",
        ),
        (
            ["lab", "add", "--subject", "S01", "--data", "{bad"],
            "error [data_invalid]: --data is not valid JSON",
        ),
        (
            ["study", "add", "nowhere.yaml", "--site", "A=x"],
            "error [protocol_invalid]: nowhere.yaml: cannot read the protocol file",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_1(db: list[str], args: list[str], message: str) -> None:
    run(*db, "init")
    run(*db, "study", "add", str(PROTOCOL), "--site", "A=Site A")
    code, out = run(*db, *args)
    assert code == 1
    assert out.startswith(message)
    assert out.count("\n") == 1


def test_commands_refuse_an_uninitialised_database(db: list[str], tmp_path: Path) -> None:
    code, out = run(*db, "audit", "verify")
    assert code == 1 and "does not exist; create it with `pustula init`" in out
    assert not list(tmp_path.glob("*.sqlite3"))  # nothing left behind by the refusal
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")
    code, out = run("--database", f"sqlite:///{empty}", "endpoints")
    assert code == 1 and "is not initialised; run `pustula init` first" in out


@pytest.mark.parametrize("url", ["not a url", "mysql://u@h/db", "sqlite:::"])
def test_a_bad_database_url_is_one_line(url: str) -> None:
    code, out = run("--database", url, "audit", "verify")
    assert code == 1 and out.startswith("error [configuration]: the database ")


def test_demo_then_import_into_a_new_database(db: list[str], tmp_path: Path) -> None:
    code, out = run(*db, "demo")
    assert code == 0 and "SYNTHETIC DEMO DATA" in out
    run(*db, "export", str(tmp_path / "b"), "--format", "parquet")
    other = ["--database", f"sqlite:///{tmp_path / 'other.sqlite3'}"]
    assert run(*other, "import", str(tmp_path / "b"), "--reason", "move to new server")[0] == 0
    assert run(*other, "audit", "verify")[0] == 0
    assert run(*other, "backup", str(tmp_path / "copy.sqlite3"))[0] == 0


def test_protocol_check(tmp_path: Path) -> None:
    code, out = run("protocol", "check", str(PROTOCOL))
    assert code == 0 and json.loads(out)["visits"] == ["W0", "W2", "W4", "W12"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\ntitle: t\n")
    code, out = run("protocol", "check", str(bad))
    assert code == 1 and out.startswith(
        f"error [protocol_invalid]: {bad}: arms: this field is missing"
    )


def test_a_locked_study_refuses_writes_from_the_command_line(db: list[str]) -> None:
    run(*db, "init")
    run(*db, "study", "add", str(PROTOCOL), "--site", "A=Site A")
    enrolment = json.dumps({"baseline": BASELINE, "prior_therapies": PRIOR, "screening_labs": LABS})
    run(*db, "subject", "enrol", "S01", "--site", "A", "--screened-on", "2024-02-26",
        "--data", enrolment)  # fmt: skip
    code, out = run(*db, "study", "lock", "--reason", "database lock for the final analysis")
    assert code == 0 and re.fullmatch(r"study locked; data SHA-256 [0-9a-f]{64}\n", out)
    dose = json.dumps({"drug": "tofacitinib", "dose": 5, "unit": "mg",
                       "frequency": "twice daily", "start_date": "2024-03-04"})  # fmt: skip
    code, out = run(*db, "exposure", "add", "--subject", "S01", "--data", dose)
    assert code == 1 and out.startswith("error [locked]: the study is locked for analysis")
    assert run(*db, "study", "unlock", "--reason", "late lab result") == (0, "study unlocked\n")
    assert run(*db, "exposure", "add", "--subject", "S01", "--data", dose)[0] == 0


def test_a_tidy_export_with_its_codebook(db: list[str], tmp_path: Path) -> None:
    run(*db, "init")
    assert run(*db, "demo")[0] == 0
    code, out = run(*db, "export", "--tidy", str(tmp_path / "tidy"), "--format", "sav")
    assert code == 0, out
    assert out.startswith("wrote 24 rows x ")
    assert "SYNTHETIC" in out
    assert (tmp_path / "tidy" / "tidy.sav").exists() and (
        tmp_path / "tidy" / "codebook.csv"
    ).exists()
    code, out = run(*db, "export", "--tidy", str(tmp_path / "bad"), "--format", "sas7bdat")
    assert code == 1 and "--format must be one of csv, parquet, xlsx, xpt, dta, sav" in out


def test_the_redcap_dictionary_with_its_events(db: list[str], tmp_path: Path) -> None:
    run(*db, "init")
    run(*db, "study", "add", str(PROTOCOL), "--site", "A=Site A")
    target = tmp_path / "pustula_dictionary.csv"
    code, out = run(*db, "redcap", "dictionary", "-o", str(target))
    assert code == 0, out
    header = target.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("Variable / Field Name,Form Name,Section Header,Field Type")
    events = (tmp_path / "pustula_dictionary_events.csv").read_text(encoding="utf-8")
    assert "week_12_arm_1" in events
    assert (tmp_path / "pustula_dictionary_mapping.csv").exists()


def test_redcap_records_out_and_into_a_new_study(db: list[str], tmp_path: Path) -> None:
    run(*db, "init")
    run(*db, "demo")
    records = tmp_path / "records.csv"
    assert run(*db, "redcap", "export", "-o", str(records)) == (
        0, f"6 records written to {records}\n")  # fmt: skip
    other = ["--database", f"sqlite:///{tmp_path / 'other.sqlite3'}", "--user", "importer"]
    run(*other, "init")
    run(*other, "study", "add", str(PROTOCOL), "--site", "SITE1=One", "--site", "SITE2=Two")
    code, out = run(*other, "redcap", "import", str(records), "--reason", "migration")
    assert (code, out) == (0, f"imported 6 subjects with 24 visits from {records}\n")
    code, out = run(*other, "redcap", "import", str(records), "--reason", "again")
    assert code == 1 and "subject S01 already exists" in out  # all or nothing: no duplicates


def test_redcap_import_needs_a_file_or_an_api_address_with_a_token(db: list[str]) -> None:
    run(*db, "init")
    run(*db, "demo")
    code, out = run(*db, "redcap", "import", "--reason", "r")
    assert code == 1 and "give either a FILE or --url with --token-env" in out
    code, out = run(*db, "redcap", "import", "--reason", "r", "--url", "http://127.0.0.1:9/api/",
                    "--token-env", "PUSTULA_TEST_NO_SUCH_VARIABLE")  # fmt: skip
    assert code == 1 and "--token-env must name an environment variable" in out


def test_fhir_bundles_one_per_subject(db: list[str], tmp_path: Path) -> None:
    run(*db, "init")
    run(*db, "demo")
    code, out = run(*db, "fhir", "export", str(tmp_path / "fhir"))
    assert (code, out) == (0, f"6 bundles written to {tmp_path / 'fhir'}\n")
    bundle = json.loads((tmp_path / "fhir" / "Bundle-S03.json").read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"


def test_the_demos_records_are_the_demos_not_the_login_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import select

    from pustula.store import Store
    from pustula.store.db.models import Subject

    monkeypatch.delenv("PUSTULA_USER", raising=False)
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    assert run("--database", url, "demo")[0] == 0  # no --user: "root" on a CI machine
    store = Store.open(url, must_exist=True)
    with store.reader() as session:
        assert set(session.scalars(select(Subject.created_by))) == {"demo"}
    store.dispose()
