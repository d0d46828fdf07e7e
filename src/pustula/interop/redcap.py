"""REDCap out: a data dictionary generated from the protocol, with its events.

One form per instrument and CRF; choices as ``code, label | …``; validation types and
ranges; ``calc`` fields whose REDCap expressions reproduce the PPPASI area bands, region
scores and total, and the DLQI total with its missing-item rule (one missing item scores
0, two or more leave no total). ``tests/interop/test_redcap.py`` evaluates every
expression on thousands of random inputs against :mod:`pustula.scoring`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pustula.checks.vocabulary import CODELISTS, DLQI_ITEMS, field_label
from pustula.protocol import Protocol
from pustula.protocol.randomization import FACTORS
from pustula.randomization import factor_levels
from pustula.scoring import PPPASI

__all__ = [
    "COLUMNS",
    "DictionaryRow",
    "data_dictionary",
    "event_name",
    "events",
    "instrument_events",
    "project_files",
    "to_csv",
]

#: REDCap's data dictionary columns, in REDCap's order.
COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)  # fmt: skip
#: The form each Pustula instrument is entered on.
FORMS = {"pppasi": "pppasi", "pga": "ppp_pga", "pain_nrs": "pain_itch", "itch_nrs": "pain_itch",
         "dlqi": "dlqi"}  # fmt: skip
NOT_RELEVANT, YES = "nr", "yes"
PRIOR_FORM = "prior_therapy"
#: The rest of a casebook, as repeating forms of the baseline event (one instance per
#: record), and the end of participation as a form of its own.
REPEATING = ("exposure", "interruption", "adverse_event", "lab", "con_med")
END_FORM = "end_of_study"
#: A randomized protocol's form: date, kit, strata and the allocation field.
RANDOMIZATION_FORM = "randomization"
#: Screening labs in the units the shipped protocol's eligibility rules use.
SCREENING_LABS = {"lab_lymphocytes": "Lymphocytes (/mm³)",
                  "lab_neutrophils": "Neutrophils, ANC (/mm³)",
                  "lab_haemoglobin": "Haemoglobin (g/dL)"}  # fmt: skip
SCREENS = ("tuberculosis", "hepatitis")


@dataclass(frozen=True)
class DictionaryRow:
    name: str
    form: str
    kind: str  # text, radio, checkbox, yesno, calc, notes, descriptive
    label: str
    choices: str = ""
    note: str = ""
    validation: str = ""
    low: str = ""
    high: str = ""
    required: bool = False
    annotation: str = ""
    section: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def cells(self) -> list[str]:
        return [self.name, self.form, self.section, self.kind, self.label, self.choices,
                self.note, self.validation, self.low, self.high, "", "",
                "y" if self.required else "", "", "", "", "", self.annotation]  # fmt: skip


def _choices(pairs: Iterable[tuple[str, str]]) -> str:
    return " | ".join(f"{code}, {text}" for code, text in pairs)


def _blank_any(names: Sequence[str]) -> str:
    return " or ".join(f"isblankormissingcode([{n}])" for n in names)


def area_score_expression(pct: str) -> str:
    """PPPASI area score 0-6 from the involved percentage (bands 0, <10, <30 … ≥90)."""
    edges = list(PPPASI.metadata()["area_band_edges"])  # 10, 30, 50, 70, 90
    inner = "6"
    for score, edge in reversed(list(enumerate(edges, start=1))):
        inner = f"if([{pct}]<{edge},{score},{inner})"
    return f"if(isblankormissingcode([{pct}]),'',if([{pct}]=0,0,{inner}))"


def _pppasi_rows() -> list[DictionaryRow]:
    meta = PPPASI.metadata()
    signs = [s["code"] for s in meta["signs"]]
    severity = _choices(CODELISTS["pppasi_severity"].items())
    rows: list[DictionaryRow] = []
    tenths = []
    for region in meta["regions"]:
        code, weight = region["code"], region["weight_tenths"]
        items = [f"{code}_{s}" for s in signs]
        for item in items:
            rows.append(DictionaryRow(item, "pppasi", "radio", field_label(item), severity,
                                      required=True, section=region["label"]
                                      if item == items[0] else ""))  # fmt: skip
        pct = f"{code}_area_pct"
        rows.append(DictionaryRow(pct, "pppasi", "text", field_label(pct), validation="number",
                                  low="0", high="100", required=True,
                                  note="Share of the region involved"))  # fmt: skip
        area = f"{code}_area_score"
        rows.append(DictionaryRow(area, "pppasi", "calc", field_label(area),
                                  area_score_expression(pct)))  # fmt: skip
        signs_sum = "+".join(f"[{i}]" for i in items)
        region_tenths = f"{weight}*({signs_sum})*[{area}]"
        rows.append(DictionaryRow(
            f"pppasi_{code}", "pppasi", "calc", f"PPPASI {region['label'].lower()} score",
            f"if({_blank_any([*items, area])},'',round({region_tenths}/10,1))"))  # fmt: skip
        tenths.append((region_tenths, [*items, area]))
    every = [n for _, names in tenths for n in names]
    total = "+".join(t for t, _ in tenths)
    rows.append(DictionaryRow("pppasi_total", "pppasi", "calc", "PPPASI total (0-72)",
                              f"if({_blank_any(every)},'',round(({total})/10,1))",
                              note="Bhushan M et al. Br J Dermatol 2001;145:546-553"))  # fmt: skip
    return rows


def dlqi_item_score(name: str) -> str:
    """An item's score: "not relevant" scores 0, item 7's "yes" scores 3."""
    return f"if([{name}]='{NOT_RELEVANT}',0,if([{name}]='{YES}',3,[{name}]))"


def _dlqi_rows() -> list[DictionaryRow]:
    rows = []
    answers = list(CODELISTS["dlqi_answer"].items())
    for number, (name, short) in enumerate(DLQI_ITEMS.items(), start=1):
        pairs = list(answers)
        if number == 7:
            pairs = [(YES, "Yes (prevented working or studying)")] + [
                (v, f"No: {t.lower()}") for v, t in answers if v != "3"
            ]
        if number >= 3:
            pairs.append((NOT_RELEVANT, "Not relevant"))
        rows.append(DictionaryRow(name, "dlqi", "radio", f"{number}. {short}", _choices(pairs)))
    names = list(DLQI_ITEMS)
    missing = "+".join(f"if(isblankormissingcode([{n}]),1,0)" for n in names)
    scores = ",".join(dlqi_item_score(n) for n in names)
    rows.append(DictionaryRow(
        "dlqi_total", "dlqi", "calc", "DLQI total (0-30)",
        f"if(({missing})>=2,'',sum({scores}))",
        note="One unanswered item scores 0; two or more leave no total (Finlay & Khan 1994)",
    ))  # fmt: skip
    return rows


def _date(name: str, form: str, label: str, *, required: bool = False) -> DictionaryRow:
    return DictionaryRow(name, form, "text", label, validation="date_ymd", required=required)


def _number(name: str, form: str, label: str, *, required: bool = False) -> DictionaryRow:
    return DictionaryRow(name, form, "text", label, validation="number", required=required)


def _coded(name: str, form: str, label: str, codelist: str, *, kind: str = "radio",
           required: bool = True) -> DictionaryRow:  # fmt: skip
    return DictionaryRow(name, form, kind, label, _choices(CODELISTS[codelist].items()),
                         required=required)  # fmt: skip


def _baseline_rows() -> list[DictionaryRow]:
    form = "screening"
    return [
        DictionaryRow(
            "record_id",
            form,
            "text",
            "Subject (study code)",
            required=True,
            note="Study code only: never a name or initials",
        ),
        DictionaryRow("site", form, "text", "Site code", required=True),
        _date("screened_on", form, "Screening date", required=True),
        DictionaryRow(
            "age",
            form,
            "text",
            "Age (years)",
            validation="integer",
            low="0",
            high="120",
            required=True,
        ),
        _coded("sex", form, "Sex", "sex"),
        DictionaryRow(
            "disease_duration_months",
            form,
            "text",
            "PPP duration (months)",
            validation="number",
            low="0",
            high="1200",
            required=True,
        ),
        DictionaryRow("eraspen_ppp", form, "yesno", "PPP by ERASPEN criteria", required=True),
        _coded("smoking", form, "Smoking", "smoking"),
        DictionaryRow(
            "pack_years", form, "text", "Pack-years", validation="number", low="0", high="200"
        ),
        _coded("triggers", form, "Triggers", "trigger", kind="checkbox", required=False),
        _coded(
            "comorbidities", form, "Comorbidities", "comorbidity", kind="checkbox", required=False
        ),
        *[
            DictionaryRow(name, form, "text", label, validation="number", low="0")
            for name, label in SCREENING_LABS.items()
        ],
        *[
            DictionaryRow(
                name,
                form,
                "radio",
                field_label(name),
                _choices(CODELISTS["screening_result"].items()),
            )
            for name in SCREENS
        ],
    ]


def _prior_rows() -> list[DictionaryRow]:
    """A repeating form: one instance per prior therapy."""
    return [
        DictionaryRow("prior_drug", PRIOR_FORM, "text", "Drug", required=True),
        _coded("prior_category", PRIOR_FORM, "Type of therapy", "prior_category"),
        _coded("prior_response", PRIOR_FORM, "Response", "prior_response"),
    ]


def _casebook_rows() -> list[DictionaryRow]:
    """Study drug, interruptions, adverse events, labs, concomitant medications and the end
    of participation: with these, an export holds every record of the casebook."""
    ex, it, ae, lab, cm, end = (*REPEATING, END_FORM)
    return [
        DictionaryRow("exposure_drug", ex, "text", "Study drug", required=True),
        _number("exposure_dose", ex, "Dose", required=True),
        DictionaryRow("exposure_unit", ex, "text", "Dose unit", required=True),
        DictionaryRow("exposure_frequency", ex, "text", "Frequency", required=True),
        _date("exposure_start", ex, "First day at this dose", required=True),
        _date("exposure_end", ex, "Last day at this dose"),
        _date("interruption_start", it, "Interruption: first day without drug", required=True),
        _date("interruption_end", it, "Interruption: last day without drug"),
        DictionaryRow(
            "interruption_cause", it, "notes", "Cause of the interruption", required=True
        ),
        DictionaryRow("ae_term", ae, "text", "Adverse event (reported term)", required=True),
        DictionaryRow("ae_pt_code", ae, "text", "MedDRA preferred term code"),
        DictionaryRow("ae_pt", ae, "text", "MedDRA preferred term"),
        DictionaryRow("ae_soc_code", ae, "text", "MedDRA system organ class code"),
        DictionaryRow("ae_soc", ae, "text", "MedDRA system organ class"),
        _date("ae_start", ae, "Start date", required=True),
        _date("ae_end", ae, "End date"),
        _coded("ae_grade", ae, "Grade (CTCAE)", "grade"),
        DictionaryRow("ae_serious", ae, "yesno", "Serious", required=True),
        _coded(
            "ae_serious_criteria",
            ae,
            "Seriousness criteria",
            "serious_criterion",
            kind="checkbox",
            required=False,
        ),
        _coded("ae_relatedness", ae, "Relatedness to study drug", "relatedness"),
        _coded("ae_action", ae, "Action taken with study drug", "action_taken"),
        _coded("ae_outcome", ae, "Outcome", "outcome"),
        DictionaryRow("ae_worsened", ae, "yesno", "Pre-existing, worsened on treatment"),
        _coded("lab_test", lab, "Test", "lab_test", kind="dropdown"),
        _number("lab_value", lab, "Result", required=True),
        DictionaryRow("lab_unit", lab, "text", "Unit", required=True),
        _number("lab_lower", lab, "Lower limit of normal"),
        _number("lab_upper", lab, "Upper limit of normal"),
        _date("lab_date", lab, "Sample date", required=True),
        DictionaryRow("cm_drug", cm, "text", "Medication", required=True),
        DictionaryRow("cm_indication", cm, "text", "Indication", required=True),
        DictionaryRow("cm_dose", cm, "text", "Dose"),
        _date("cm_start", cm, "Start date"),
        _date("cm_end", cm, "End date"),
        _coded("end_outcome", end, "What ended", "end_outcome"),
        _date("end_date", end, "Date", required=True),
        DictionaryRow("end_reason", end, "notes", "Reason", required=True),
        _date("end_last_contact", end, "Last contact"),
    ]


def _visit_rows() -> list[DictionaryRow]:
    return [
        _date("visit_date", "visit", "Visit date", required=True),
        DictionaryRow(
            "pga", "ppp_pga", "radio", "PPP PGA", _choices(CODELISTS["pga"].items()), required=True
        ),
        DictionaryRow(
            "pain_nrs",
            "pain_itch",
            "text",
            "Pain NRS (0-10)",
            validation="integer",
            low="0",
            high="10",
        ),
        DictionaryRow(
            "itch_nrs",
            "pain_itch",
            "text",
            "Itch NRS (0-10)",
            validation="integer",
            low="0",
            high="10",
        ),
    ]


def data_dictionary(protocol: Protocol | None) -> list[DictionaryRow]:
    """The study's REDCap data dictionary, form by form (REDCap needs record_id first).

    The forms are the same for every protocol (events follow its visits), but a
    randomized protocol adds its randomization form: the date, the kit, each stratification
    factor and the allocation field that REDCap's randomization module fills.
    """
    visit, pga_and_nrs = _visit_rows()[:1], _visit_rows()[1:]
    randomized = _randomization_rows(protocol) if protocol and protocol.randomization else []
    return [*_baseline_rows(), *_prior_rows(), *randomized, *visit, *_pppasi_rows(),
            pga_and_nrs[0], *_dlqi_rows(), *pga_and_nrs[1:], *_casebook_rows()]  # fmt: skip


def _randomization_rows(protocol: Protocol) -> list[DictionaryRow]:
    randomization = protocol.randomization
    assert randomization is not None
    rows = [
        _date("rand_date", RANDOMIZATION_FORM, "Date of randomization", required=True),
        DictionaryRow("rand_kit", RANDOMIZATION_FORM, "text", "Kit number",
                      validation="integer"),
    ]  # fmt: skip
    for stratum in randomization.strata:
        name, text = f"rand_{stratum.factor}", f"Stratification: {FACTORS[stratum.factor]}"
        if stratum.factor == "site":  # the study's sites are REDCap data access groups
            rows.append(DictionaryRow(name, RANDOMIZATION_FORM, "text", text, required=True))
        else:
            levels = factor_levels(stratum, [])
            rows.append(DictionaryRow(name, RANDOMIZATION_FORM, "radio", text,
                                      _choices((str(i), lv) for i, lv in enumerate(levels, 1)),
                                      required=True))  # fmt: skip
    arms = _choices((str(i), a.label) for i, a in enumerate(protocol.arms, start=1))
    rows.append(DictionaryRow(
        "rand_group", RANDOMIZATION_FORM, "radio", "Allocation (REDCap's randomization "
        "field; blinded users never see it)", arms,
        annotation="@READONLY"))  # fmt: skip
    return rows


def event_name(label: str, arm: int = 1) -> str:
    """REDCap's unique event name: the label in lower case, ``_`` for spaces, ``_arm_N``."""
    cleaned = "".join(c if c.isalnum() else "_" for c in label.lower()).strip("_")
    return f"{cleaned}_arm_{arm}"


def events(protocol: Protocol) -> list[dict[str, str]]:
    """The event list: one event per protocol visit, with its day and window."""
    return [
        {"event_name": v.label, "arm_num": "1", "day_offset": str(v.day),
         "offset_min": str(v.window_before), "offset_max": str(v.window_after),
         "unique_event_name": event_name(v.label)}
        for v in protocol.visits
    ]  # fmt: skip


def instrument_events(protocol: Protocol) -> list[dict[str, str]]:
    """Which forms each event collects: screening at baseline, the visit's instruments."""
    rows = []
    for v in protocol.visits:
        forms = ["screening", PRIOR_FORM, *REPEATING, END_FORM] if v.baseline else []
        if v.baseline and protocol.randomization is not None:
            forms.insert(2, RANDOMIZATION_FORM)
        forms += ["visit", *dict.fromkeys(FORMS[i] for i in v.instruments if i in FORMS)]
        rows += [{"arm_num": "1", "unique_event_name": event_name(v.label), "form": f}
                 for f in forms]  # fmt: skip
    return rows


def project_files(
    protocol: Protocol, rows: Sequence[DictionaryRow] | None = None
) -> dict[str, str]:
    """The files a REDCap project is set up from: the dictionary (``rows``, or the
    protocol's), its events and the instrument-event mapping."""
    files = {"data_dictionary.csv": to_csv(rows or data_dictionary(protocol))}
    for name, table in (("events", events(protocol)),
                        ("instrument_events", instrument_events(protocol))):  # fmt: skip
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(table[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(table)
        files[f"{name}.csv"] = out.getvalue()
    return files


def to_csv(rows: Sequence[DictionaryRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(r.cells() for r in rows)
    return out.getvalue()
