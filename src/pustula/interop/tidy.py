"""An analysis-ready export: one row per subject and visit, with a codebook.

Keyed by subject code and visit code; the items and scores of every instrument, the
subject's baseline, and the derived PPPASI change and responder flags of the analysis.
Written as CSV, Parquet, Excel, SAS XPT, Stata ``.dta`` or SPSS ``.sav``; the last three
carry variable labels and, for coded numeric variables, value labels (pyreadstat).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from pustula.analysis.datasets import AnalysisData
from pustula.checks.spreadsheet import inert_frame
from pustula.checks.vocabulary import CODELISTS, DLQI_ITEMS, field_label
from pustula.errors import DataValidationError
from pustula.scoring import PPPASI, get_instrument

__all__ = ["FORMATS", "TidyExport", "build_tidy", "item_score", "synthetic_note", "write_tidy"]

Format = Literal["csv", "parquet", "xlsx", "xpt", "dta", "sav"]
FORMATS: tuple[str, ...] = ("csv", "parquet", "xlsx", "xpt", "dta", "sav")


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str  # numeric, text, date
    source: str
    choices: Mapping[str, str] | None = None  # allowed values (as text) with their labels


SYNTHETIC_NOTE = "SYNTHETIC demo data, chosen to match published aggregates. Not patient data."
#: The note of a synthetic randomized trial (``pustula demo --trial``): no aggregate was matched.
SYNTHETIC_TRIAL_NOTE = "SYNTHETIC demo trial: invented subjects. Not patient data, not a result."


def synthetic_note(randomized: bool) -> str:
    """The note that labels a synthetic export: the case series' or the demo trial's.

    >>> synthetic_note(True)
    'SYNTHETIC demo trial: invented subjects. Not patient data, not a result.'
    """
    return SYNTHETIC_TRIAL_NOTE if randomized else SYNTHETIC_NOTE


@dataclass(frozen=True)
class TidyExport:
    """An analysis-ready table, one row per subject and visit, with its variables'
    labels and value labels (the codebook).

    Examples
    --------
    >>> from pustula.analysis import build_analysis
    >>> from pustula.store.transfer.extract import read_items, read_study
    >>> store = demo_store()
    >>> export = build_tidy(build_analysis(read_study(store)), read_items(store))
    >>> export.synthetic, len(export.data), export.variables[0].name
    (True, 24, 'subject')
    """

    data: pd.DataFrame
    variables: tuple[Variable, ...]
    synthetic: bool = False
    randomized: bool = False

    @property
    def codebook(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "variable": [v.name for v in self.variables],
                "label": [v.label for v in self.variables],
                "type": [v.kind for v in self.variables],
                "values": [
                    "; ".join(f"{k} = {t}" for k, t in v.choices.items()) if v.choices else ""
                    for v in self.variables
                ],
                "source": [v.source for v in self.variables],
            }
        )


def _coded(codelist: str) -> dict[str, str]:
    return dict(CODELISTS[codelist])


_SEVERITY = _coded("pppasi_severity")
_YES_NO = {"1": "Yes", "0": "No"}
_PPPASI_SOURCE = "PPPASI item (Bhushan M et al. Br J Dermatol 2001;145:546-553)"
_DLQI_SOURCE = "DLQI item score (Finlay & Khan 1994)"
_RESPONDER = "Derived (ADQS CRITyFL, by the protocol's analysis plan)"


def item_score(instrument: str, name: str, value: Any) -> float | None:
    """An item's value as its score (DLQI answers such as "not relevant" score 0)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    fields = {f["name"]: f for f in get_instrument(instrument).metadata()["fields"]}
    labels = fields.get(name, {}).get("labels") or {}
    score = labels.get(str(value).strip().lower())
    return None if score is None else float(score)


def _variables(cutoffs: tuple[int, ...]) -> list[Variable]:
    meta = PPPASI.metadata()
    regions = [r["code"] for r in meta["regions"]]
    out = [
        Variable("subject", "Subject (study code)", "text", "Subject"),
        Variable("site", "Site", "text", "Subject"),
        Variable("status", "Subject status", "text", "Subject", _coded("subject_status")),
        Variable("visit", "Visit (protocol code)", "text", "Visit"),
        Variable("visit_label", "Visit", "text", "Protocol"),
        Variable("visit_date", "Visit date", "date", "Visit"),
        Variable("study_day", "Study day (day 0 = first dose)", "numeric", "Visit"),
        Variable("window_status", "Visit window", "text", "Visit", _coded("window_status")),
        Variable("age", "Age (years)", "numeric", "Baseline"),
        Variable("sex", "Sex", "text", "Baseline", _coded("sex")),
        Variable("disease_duration_months", "PPP duration (months)", "numeric", "Baseline"),
        Variable("smoking", "Smoking", "text", "Baseline", _coded("smoking")),
        Variable("first_dose", "Day of the first dose", "date", "Exposure"),
    ]
    for region in regions:
        for sign in ("erythema", "pustules", "desquamation"):
            name = f"{region}_{sign}"
            out.append(Variable(name, field_label(name), "numeric", _PPPASI_SOURCE, _SEVERITY))
        out.append(Variable(f"{region}_area_pct", field_label(f"{region}_area_pct"),
                            "numeric", _PPPASI_SOURCE))  # fmt: skip
        out.append(Variable(f"pppasi_{region}", f"PPPASI {field_label(region).lower()} score",
                            "numeric", "Scored by pustula.scoring.pppasi"))  # fmt: skip
    out += [
        Variable("pppasi", "PPPASI total (0-72)", "numeric", "Scored by pustula.scoring.pppasi"),
        Variable("pppasi_chg", "PPPASI change from baseline", "numeric", "Derived (ADQS CHG)"),
        Variable("pppasi_pchg", "PPPASI % change from baseline", "numeric", "Derived (ADQS PCHG)"),
        *[
            Variable(f"pppasi{c}", f"PPPASI{c} responder", "numeric", _RESPONDER, _YES_NO)
            for c in cutoffs
        ],
        Variable("pga", "PPP PGA", "numeric", "PPP PGA (5-point)", _coded("pga")),
        Variable("pain_nrs", "Pain NRS (0-10)", "numeric", "Pain NRS"),
        Variable("itch_nrs", "Itch NRS (0-10)", "numeric", "Itch NRS"),
    ]
    for name, short in DLQI_ITEMS.items():
        number = name.removeprefix("dlqi_q")
        out.append(Variable(name, f"DLQI {number}: {short}", "numeric", _DLQI_SOURCE,
                            _coded("dlqi_answer")))  # fmt: skip
    out.append(Variable("dlqi", "DLQI total (0-30)", "numeric", "Scored by pustula.scoring.dlqi"))
    return out


def build_tidy(analysis: AnalysisData, items: pd.DataFrame) -> TidyExport:
    """The tidy table of a study from its analysis and its item values (``read_items``).

    Examples
    --------
    >>> from pustula.analysis import build_analysis
    >>> from pustula.store.transfer.extract import read_items, read_study
    >>> store = demo_store()
    >>> export = build_tidy(build_analysis(read_study(store)), read_items(store))
    >>> list(export.data.columns[:4]), len(export.data)
    (['subject', 'site', 'status', 'visit'], 24)
    """
    data = analysis.study
    variables = _variables(analysis.settings.cutoffs)
    visits = data.assessments.drop_duplicates(["subject", "visit_code"])
    rows = visits[["subject", "visit_code", "visit_date", "study_day", "window_status"]].rename(
        columns={"visit_code": "visit"}
    )
    labels = {v.code: v.label for v in data.protocol.visits}
    rows["visit_label"] = rows["visit"].map(labels)
    subjects = data.subjects[["subject", "site", "status", "age", "sex",
                              "disease_duration_months", "smoking", "first_dose"]]  # fmt: skip
    rows = rows.merge(subjects, on="subject", how="left")
    wide: dict[tuple[str, str], dict[str, Any]] = {}
    for r in items.to_dict("records"):
        target = wide.setdefault((r["subject"], r["visit_code"]), {})
        instrument = r["instrument"]
        for name, value in (r["items"] or {}).items():
            target[name] = item_score(instrument, name, value)
        if instrument == "pppasi":
            for region, score in (r["subscores"] or {}).items():
                target[f"pppasi_{region}"] = score
        target[instrument] = r["total"]
    scores = pd.DataFrame([{"subject": s, "visit": v, **values} for (s, v), values in wide.items()])
    if len(scores):
        rows = rows.merge(scores, on=["subject", "visit"], how="left")
    rows = rows.merge(_derived(analysis), on=["subject", "visit"], how="left")
    names = [v.name for v in variables]
    for name in names:
        if name not in rows:
            rows[name] = None
    order = {v.code: i for i, v in enumerate(data.protocol.visits)}
    rows = rows.sort_values(["subject", "visit"], key=lambda c: c.map(order) if c.name == "visit"
                            else c).reset_index(drop=True)  # fmt: skip
    return TidyExport(
        rows[names],
        tuple(variables),
        synthetic=data.synthetic,
        randomized=data.protocol.randomized,
    )


def _derived(analysis: AnalysisData) -> pd.DataFrame:
    adqs = analysis.adqs
    pppasi = adqs[(adqs["PARAMCD"] == "PPPASI") & adqs["DTYPE"].isna()]
    out = pd.DataFrame({"subject": pppasi["SUBJID"], "visit": pppasi["VISITCD"],
                        "pppasi_chg": pppasi["CHG"], "pppasi_pchg": pppasi["PCHG"]})  # fmt: skip
    for cut in analysis.settings.cutoffs:
        flag = pppasi[f"CRIT{analysis.crit(cut)}FL"]
        out[f"pppasi{cut}"] = flag.map({"Y": 1.0, "N": 0.0})
    return out.drop_duplicates(["subject", "visit"])


def _for_stats_packages(export: TidyExport) -> pd.DataFrame:
    frame = export.data.copy()
    for v in export.variables:
        if v.kind == "numeric":
            frame[v.name] = pd.to_numeric(frame[v.name], errors="coerce").astype("float64")
        elif v.kind == "date":
            frame[v.name] = pd.to_datetime(frame[v.name]).dt.date
        else:
            frame[v.name] = frame[v.name].astype("string").fillna("").astype(object)
    return frame


def write_tidy(export: TidyExport, directory: Path, fmt: str) -> list[Path]:
    """Write the table and its codebook to ``directory``; the files written.

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.analysis import build_analysis
    >>> from pustula.store.transfer.extract import read_items, read_study
    >>> store = demo_store()
    >>> export = build_tidy(build_analysis(read_study(store)), read_items(store))
    >>> [path.name for path in write_tidy(export, Path("tidy"), "csv")]
    ['tidy.csv', 'codebook.csv', 'SYNTHETIC-DATA.txt']
    """
    if fmt not in FORMATS:
        raise DataValidationError(
            f"format: choose one of {', '.join(FORMATS)}; got `{fmt}`", field="format"
        )
    import pyreadstat

    directory.mkdir(parents=True, exist_ok=True)
    codebook = directory / "codebook.csv"
    inert_frame(export.codebook).to_csv(codebook, index=False)
    written = [codebook]
    if export.synthetic:
        note = directory / "SYNTHETIC-DATA.txt"
        note.write_text(synthetic_note(export.randomized) + "\n", encoding="utf-8")
        written.append(note)
    file_label = (
        synthetic_note(export.randomized)[:80] if export.synthetic else "Pustula tidy export"
    )
    target = directory / f"tidy.{fmt}"
    labels = {v.name: v.label for v in export.variables}
    value_labels = {
        v.name: {float(k): t for k, t in v.choices.items()}
        for v in export.variables
        if v.choices and v.kind == "numeric"
    }
    if fmt == "csv":
        inert_frame(export.data).to_csv(target, index=False, date_format="%Y-%m-%d")
    elif fmt == "parquet":
        export.data.to_parquet(target, index=False)
    elif fmt == "xlsx":
        with pd.ExcelWriter(target) as book:
            # openpyxl stores text that begins with "=" as a formula: make it inert first
            inert_frame(export.data).to_excel(book, sheet_name="data", index=False)
            inert_frame(export.codebook).to_excel(book, sheet_name="codebook", index=False)
    elif fmt == "xpt":
        pyreadstat.write_xport(_for_stats_packages(export), str(target), table_name="TIDY",
                               file_format_version=8,
                               column_labels=[labels[c] for c in export.data.columns])  # fmt: skip
    elif fmt == "dta":
        pyreadstat.write_dta(_for_stats_packages(export), str(target), file_label=file_label,
                             column_labels=[labels[c] for c in export.data.columns],
                             variable_value_labels=value_labels)  # fmt: skip
    else:
        pyreadstat.write_sav(_for_stats_packages(export), str(target), file_label=file_label,
                             column_labels=[labels[c] for c in export.data.columns],
                             variable_value_labels=value_labels)  # fmt: skip
    return [target, *written]
