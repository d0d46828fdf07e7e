"""FHIR Bundles: every resource validated by fhir.resources, the Patient pseudonymous, and the
items and scores read back equal to the casebook's."""

from __future__ import annotations

import json

import pytest
from fhir.resources.bundle import Bundle

from pustula.demo import create_demo_study
from pustula.interop.fhir import CODE_SYSTEM, SUBJECT_SYSTEM, read_bundle, subject_bundle
from pustula.protocol import Protocol
from pustula.store import Store, get_study
from pustula.store.records.study import protocol_of
from pustula.store.services.clinical import Casebook, casebooks


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Casebook], Protocol]:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('fhir') / 'demo.sqlite3'}")
    store.create_schema()
    create_demo_study(store)
    with store.reader() as session:
        protocol = protocol_of(get_study(session))
    return casebooks(store), protocol


def test_each_bundle_validates_and_reads_back_the_same_items_and_scores(
    books: tuple[list[Casebook], Protocol],
) -> None:
    casebook_list, protocol = books
    for book in casebook_list:
        text = subject_bundle(book, protocol).model_dump_json()
        Bundle.model_validate_json(text)  # every resource validated again on reading
        back = read_bundle(text)
        assert back["subject"] == book.subject.code
        visits = {v.id: v.visit_code for v in book.records.visit}
        expected = {(visits[a.visit_id], a.instrument): a.items for a in book.records.assessment}
        assert back["assessments"] == expected
        totals = sorted(a.total for a in book.records.assessment if a.total is not None)
        assert sorted(back["scores"].values()) == totals


def test_the_patient_is_pseudonymous_and_scores_use_pustulas_code_system(
    books: tuple[list[Casebook], Protocol],
) -> None:
    casebook_list, protocol = books
    doc = json.loads(subject_bundle(casebook_list[0], protocol).model_dump_json())
    kinds = [e["resource"]["resourceType"] for e in doc["entry"]]
    patient = doc["entry"][kinds.index("Patient")]["resource"]
    assert set(patient) == {"resourceType", "id", "identifier"}  # no name, no birth date
    assert patient["identifier"] == [{"system": SUBJECT_SYSTEM, "value": "S01"}]
    codes = {e["resource"]["code"]["coding"][0]["system"]
             for e in doc["entry"] if e["resource"]["resourceType"] == "Observation"}  # fmt: skip
    assert codes == {CODE_SYSTEM}
    assert {"ResearchStudy", "ResearchSubject", "Questionnaire", "AdverseEvent"} <= set(kinds)
    urls = [e["fullUrl"] for e in doc["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)
