"""Every code a person can meet has a label, and nothing shows a raw code."""

from __future__ import annotations

import pytest

from pustula.checks.adverse_events import ACTIONS, OUTCOMES, RELATEDNESS, SERIOUS_CRITERIA
from pustula.checks.values import LAB_TESTS
from pustula.checks.vocabulary import CODELISTS, DLQI_ITEMS, field_label, label, labels
from pustula.protocol.status import SubjectStatus, VisitStatus, WindowStatus
from pustula.scoring import PPPASI, get_instrument, list_instruments
from pustula.store.records.schemas import COMORBIDITIES, TRIGGERS, BaselineIn


@pytest.mark.parametrize(
    ("codelist", "allowed"),
    [
        ("serious_criterion", SERIOUS_CRITERIA), ("relatedness", RELATEDNESS),
        ("action_taken", ACTIONS), ("outcome", OUTCOMES), ("trigger", TRIGGERS),
        ("comorbidity", COMORBIDITIES), ("subject_status", tuple(SubjectStatus)),
        ("visit_status", tuple(VisitStatus)), ("window_status", tuple(WindowStatus)),
        ("lab_test", tuple(LAB_TESTS)),
        ("instrument", tuple(i.name for i in list_instruments())),
        ("sex", BaselineIn.model_fields["sex"].annotation.__args__),  # type: ignore[union-attr]
    ],
)  # fmt: skip
def test_every_allowed_code_has_a_label_that_is_not_the_code(
    codelist: str, allowed: tuple[str, ...]
) -> None:
    for code in allowed:
        text = label(codelist, code)
        assert text and "_" not in text, (codelist, code, text)


def test_instrument_names_are_as_published() -> None:
    assert [label("instrument", n) for n in ("pppasi", "pga", "dlqi", "pain_nrs")] == [
        "PPPASI", "PPP PGA", "DLQI", "Pain NRS",
    ]  # fmt: skip


def test_every_scored_item_has_a_field_label() -> None:
    for instrument in list_instruments():
        for item in instrument.metadata()["fields"]:
            assert "_" not in field_label(item["name"]), item["name"]
    assert field_label("right_sole_pustules") == "Right sole pustules"
    assert set(DLQI_ITEMS) == {f["name"] for f in get_instrument("dlqi").metadata()["fields"]}
    assert PPPASI.display_name == "PPPASI"


def test_an_unknown_code_or_field_is_shown_in_words() -> None:
    assert label("outcome", "lost_to_follow_up") == "lost to follow up"
    assert field_label("labs.lymphocytes") == "Lymphocytes"
    assert field_label("mystery_field") == "Mystery field"
    assert labels("comorbidity", ["sapho", "thyroid_disease"]) == "SAPHO syndrome, Thyroid disease"


def test_codelists_have_no_empty_labels() -> None:
    for name, entries in CODELISTS.items():
        assert all(entries.values()), name
