"""FHIR output checked by a validator the writer did not write (``fhir_r5/check.js``): the
element structure of the official R5 definitions as the npm ``fhirpath`` package ships them,
FHIRPath invariants quoted from the R5 text and evaluated by fhirpath.js, references that
resolve inside each Bundle, and answers of their Questionnaire item's type.

The check runs in CI (``scripts/test`` installs its npm package); elsewhere it is skipped
when Node.js or the package is missing. It can fail: a Bundle with the defects the check
from outside found (relative references in a urn:uuid Bundle, an integer answer to a
decimal item, an element R5 does not have) is refused with each one named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from pustula.demo import create_demo_study
from pustula.interop.fhir import subject_bundle
from pustula.store import (
    Store,
    add_adverse_event,
    add_exposure,
    enrol_subject,
    get_study,
    get_subject,
    record_visit,
)
from pustula.store.records.casebook import end_participation
from pustula.store.records.safety import add_con_med
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import casebooks
from tests.interop.helpers import new_store
from tests.store.helpers import BASELINE, LABS, PRIOR

CHECK = Path(__file__).parent / "fhir_r5"
READY = shutil.which("node") is not None and (CHECK / "node_modules" / "fhirpath").is_dir()
if not READY and os.environ.get("PUSTULA_TEST_REQUIRE_FHIR_CHECK") == "1":
    raise RuntimeError("the FHIR R5 check needs Node.js and `npm ci` in tests/interop/fhir_r5")
pytestmark = pytest.mark.skipif(not READY, reason="Node.js or the fhirpath package missing")


def _check(files: list[Path]) -> list[dict[str, str]]:
    run = subprocess.run(["node", str(CHECK / "check.js"), *map(str, files)],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode in (0, 1), run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The demo, with what it lacks: DLQI answers with "not relevant" and item 7's "yes", a
    withdrawn subject, a serious AE that ended, a medication with dates and dose."""
    store = new_store(tmp_path_factory.mktemp("fhir-r5") / "demo.sqlite3")
    create_demo_study(store)
    dlqi = {f"dlqi_q{i}": 1 for i in range(1, 11)} | {"dlqi_q7": "yes", "dlqi_q9": "not_relevant"}
    with store.transaction(user="tester", reason="conformance data") as tx:
        study = get_study(tx.session)
        s04 = get_subject(tx.session, study, "S04")
        add_adverse_event(
            tx,
            s04,
            {
                "term": "Pneumonia",
                "start_date": date(2024, 6, 10),
                "end_date": date(2024, 6, 20),
                "grade": 3,
                "serious": True,
                "serious_criteria": ["hospitalisation"],
                "relatedness": "possible",
                "action_taken": "interrupted",
                "outcome": "recovered",
            },
        )
        add_con_med(
            tx,
            s04,
            {
                "drug": "amoxicillin",
                "indication": "pneumonia",
                "dose": "500 mg three times daily",
                "start_date": date(2024, 6, 10),
                "end_date": date(2024, 6, 17),
            },
        )
        end_participation(
            tx,
            s04,
            outcome="withdrawn",
            ended_on=date(2024, 8, 1),
            reason="moved away",
            last_contact=date(2024, 8, 1),
        )
    with store.transaction(user="tester") as tx:
        study = get_study(tx.session)
        s07 = enrol_subject(
            tx,
            study,
            code="S07",
            site="SITE1",
            screened_on=date(2024, 7, 1),
            baseline=BASELINE,
            prior_therapies=PRIOR,
            screening_labs=LABS,
        ).subject
        add_exposure(
            tx,
            s07,
            {
                "drug": "tofacitinib",
                "dose": 5,
                "unit": "mg",
                "frequency": "twice daily",
                "start_date": date(2024, 7, 8),
            },
        )
        record_visit(
            tx,
            study,
            s07,
            visit_code="W0",
            visit_date=date(2024, 7, 8),
            assessments={"pga": {"pga": 3}, "dlqi": dlqi},
        )
        record_visit(
            tx,
            study,
            s07,
            visit_code="W2",
            visit_date=date(2024, 7, 8) + timedelta(14),
            assessments={"pga": {"pga": 2}, "dlqi": dlqi | {"dlqi_q1": 0}},
        )
    return store  # fmt: skip


def _bundles(store: Store, folder: Path) -> list[Path]:
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    paths = []
    for book in casebooks(store):
        path = folder / f"{book.subject.code}.json"
        path.write_text(subject_bundle(book, protocol).model_dump_json(exclude_none=True))
        paths.append(path)
    return paths


def test_every_bundle_passes_the_independent_r5_check(store: Store, tmp_path: Path) -> None:
    files = _bundles(store, tmp_path)
    assert len(files) == 7
    assert _check(files) == []


def test_the_bundles_say_what_a_safety_reviewer_needs(store: Store, tmp_path: Path) -> None:
    s04 = json.loads(next(p for p in _bundles(store, tmp_path) if p.stem == "S04").read_text())
    kinds = {}
    for entry in s04["entry"]:
        kinds.setdefault(entry["resource"]["resourceType"], []).append(entry["resource"])
    ae = next(a for a in kinds["AdverseEvent"] if a["code"]["text"] == "Pneumonia")
    assert ae["occurrencePeriod"] == {"start": "2024-06-10", "end": "2024-06-20"}
    assert ae["seriousness"]["coding"][0]["code"] == "serious"
    assert ae["extension"] == [{"url": "urn:pustula:extension:ctcae-grade", "valueInteger": 3}]
    relatedness = ae["suspectEntity"][0]["causality"]["entityRelatedness"]["coding"][0]
    assert relatedness["code"] == "possible"
    med = kinds["MedicationStatement"][0]
    assert med["effectivePeriod"] == {"start": "2024-06-10", "end": "2024-06-17"}
    assert med["dosage"] == [{"text": "500 mg three times daily"}]
    subject = kinds["ResearchSubject"][0]
    assert subject["progress"][0]["subjectState"]["coding"][0]["code"] == "withdrawn"
    assert subject["progress"][0]["reason"] == {"text": "moved away"}
    assert subject["period"]["end"] == "2024-08-01"


def test_the_check_refuses_what_the_outside_check_found(store: Store, tmp_path: Path) -> None:
    path = next(p for p in _bundles(store, tmp_path) if p.stem == "S07")
    bundle = json.loads(path.read_text())
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Observation":
            res["subject"] = {"reference": "Patient/subject-S07"}  # relative, urn:uuid Bundle
        if res["resourceType"] == "QuestionnaireResponse" and res["id"].endswith("W0-dlqi"):
            res["item"][0]["answer"] = [{"valueInteger": 1}]  # a coding item
            res["item"][1]["answer"] = [{"valueCoding": {"code": "very much"}}]  # no option
        if res["resourceType"] == "Patient":
            res["severity"] = "mild"  # not an R5 element
    path.write_text(json.dumps(bundle))
    rules = {p["rule"] for p in _check([path])}
    assert {"reference", "answer type", "answer option", "structure"} <= rules
