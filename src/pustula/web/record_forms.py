"""Field lists of the adverse event, lab and medication forms, and their parsing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pustula.checks.adverse_events import ACTIONS, OUTCOMES, RELATEDNESS, SERIOUS_CRITERIA
from pustula.checks.values import LAB_TESTS

LAB_UNITS = tuple(dict.fromkeys(u for test in LAB_TESTS.values() for u in test.units))

__all__ = ["RECORD_FORMS", "Field", "parse_record"]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, date, number, select, checkbox, multi
    options: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class RecordForm:
    title: str
    fields: tuple[Field, ...]


RECORD_FORMS: dict[str, RecordForm] = {
    "ae": RecordForm(
        "Adverse event",
        (
            Field("term", "Term (as reported)", required=True),
            Field("meddra_pt", "MedDRA preferred term"),
            Field("meddra_pt_code", "MedDRA PT code"),
            Field("meddra_soc", "MedDRA system organ class"),
            Field("meddra_soc_code", "MedDRA SOC code"),
            Field("start_date", "Start date", "date", required=True),
            Field("end_date", "End date", "date"),
            Field("grade", "CTCAE grade (1-5)", "select", ("1", "2", "3", "4", "5"), required=True),
            Field("serious", "Serious (ICH E2A)", "checkbox"),
            Field("serious_criteria", "Seriousness criteria", "multi", SERIOUS_CRITERIA),
            Field("relatedness", "Relatedness to study drug", "select", RELATEDNESS, required=True),
            Field("action_taken", "Action taken", "select", ACTIONS, required=True),
            Field("outcome", "Outcome", "select", OUTCOMES, required=True),
            Field("worsened_on_treatment", "Pre-existing, worsened on treatment", "checkbox"),
        ),
    ),
    "lab": RecordForm(
        "Lab value",
        (
            # tests and units from the one table the validation gate uses
            Field("test", "Test", "select", tuple(LAB_TESTS), required=True),
            Field("value", "Value", "number", required=True),
            Field("unit", "Unit", "select", LAB_UNITS, required=True),
            Field("lower_limit", "Lower limit of normal", "number"),
            Field("upper_limit", "Upper limit of normal", "number"),
            Field("sample_date", "Sample date", "date", required=True),
        ),
    ),
    "conmed": RecordForm(
        "Concomitant medication",
        (
            Field("drug", "Drug", required=True),
            Field("indication", "Indication", required=True),
            Field("dose", "Dose and frequency"),
            Field("start_date", "Start date", "date"),
            Field("end_date", "End date", "date"),
        ),
    ),
}


def parse_record(kind: str, form: Mapping[str, Any]) -> dict[str, Any]:
    """Form values as the store's input model expects them; the store validates them."""
    data: dict[str, Any] = {}
    for field in RECORD_FORMS[kind].fields:
        if field.kind == "checkbox":
            data[field.name] = form.get(field.name) in ("on", "true", "1")
        elif field.kind == "multi":
            raw = form.get(field.name, "")
            data[field.name] = [v for v in str(raw).split(",") if v] if raw else []
        else:
            value = str(form.get(field.name, "")).strip()
            if value:
                data[field.name] = value
    return data
