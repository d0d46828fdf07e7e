"""A conformance check of a folder of SDTM or ADaM XPT files (and its define.xml).

Checks what a reviewer's validator checks first, each finding naming dataset, row (1-based)
and variable: required variables present and non-null; ISO 8601 dates; --SEQ unique per
USUBJID; every USUBJID in DM (ADSL for ADaM); STUDYID constant; --DY by the SDTM rule;
controlled terminology (SEX, RACE, ETHNIC, NY, AESER, AEOUT, AEREL, AEACN, EPOCH, units);
every EPOCH an epoch of the trial arms (TA); an end relative to the study only with a start
(date or relative timing); a numeric --STRESC equal to --STRESN; no dataset without
records; XPT v5 limits; and define.xml against the Define-XML 2.1 schema. The four before
the XPT limits came from running CDISC CORE on Pustula's output (docs/interop.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pustula.errors import DataValidationError
from pustula.interop.define import validate_define
from pustula.interop.sdtm_spec import CODELISTS, DATASETS
from pustula.interop.xpt import read_xpt

__all__ = ["Finding", "check_folder"]

# ISO 8601 date, possibly partial, with an optional time (SDTMIG 3.4, section 4.4)
_ISO = re.compile(r"^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?)?)?$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")
_ADAM_REQUIRED = {
    "ADSL": ("STUDYID", "USUBJID", "SUBJID", "SITEID"),
    "ADQS": ("STUDYID", "USUBJID", "PARAMCD", "PARAM"),
}
#: Variables checked against a codelist wherever they occur, by name suffix or name.
_UNIT_SUFFIXES = ("ORRESU", "STRESU", "DOSU")


@dataclass(frozen=True)
class Finding:
    dataset: str
    row: int | None
    variable: str
    message: str

    def __str__(self) -> str:
        where = f"{self.dataset}" + (f" row {self.row}" if self.row else "")
        return f"{where}, {self.variable}: {self.message}"


def _per_value(values: pd.Series, test: Callable[[str], bool]) -> pd.Series:
    """``test`` of each row's text ("" for a missing value), asked once per distinct value:
    a column of a million rows holds a few thousand (the check stays at or below the time
    that writing the files took)."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    answers = np.fromiter((test(str(v)) for v in distinct), dtype=bool, count=len(distinct))
    missing = test("")
    result = np.where(
        codes < 0, missing, answers[np.maximum(codes, 0)] if len(distinct) else missing
    )
    return pd.Series(result, index=values.index)


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype != object:
        return values.isna()
    return _per_value(values, lambda v: not v.strip())


def _rows(mask: pd.Series) -> list[int]:
    return [int(i) + 1 for i in mask.to_numpy().nonzero()[0]]


def _first(
    findings: list[Finding],
    dataset: str,
    variable: str,
    mask: pd.Series,
    message: str,
    limit: int = 20,
) -> None:
    """One finding per offending row, up to ``limit`` per variable and check."""
    rows = _rows(mask)
    for row in rows[:limit]:
        findings.append(Finding(dataset, row, variable, message))
    if len(rows) > limit:
        findings.append(Finding(dataset, None, variable, f"… and {len(rows) - limit} more rows"))


def _each_outside(
    findings: list[Finding], dataset: str, variable: str, values: pd.Series, allowed: set[str],
    what: str,
) -> None:  # fmt: skip
    """One finding per row (up to 20) whose non-empty value is not in ``allowed``."""
    for row in _rows(_per_value(values, lambda v: v != "" and v not in allowed))[:20]:
        value = values.iloc[row - 1]
        findings.append(Finding(dataset, row, variable, f"`{'' if pd.isna(value) else value}` "
                                f"is not {what}"))  # fmt: skip


def _codelist_of(dataset: str, variable: str) -> str | None:
    spec = DATASETS.get(dataset)
    if spec and variable in spec.names and spec.var(variable).codelist:
        return spec.var(variable).codelist
    if variable.endswith(_UNIT_SUFFIXES):
        return "UNIT"
    if variable in ("SEX", "RACE", "ETHNIC", "EPOCH", "AGEU"):
        return variable
    if variable.endswith("FL") and dataset in DATASETS:
        return "NY"
    return None


def _check_dataset(
    name: str, frame: pd.DataFrame, labels: dict[str, str], findings: list[Finding]
) -> None:
    spec = DATASETS.get(name)
    required = (
        [v.name for v in spec.variables if v.core == "Req"]
        if spec
        else list(_ADAM_REQUIRED.get(name, ("STUDYID", "USUBJID")))
    )
    for variable in required:
        if variable not in frame:
            findings.append(Finding(name, None, variable, "required variable is missing"))
        else:
            _first(findings, name, variable, _blank(frame[variable]), "required value is null")
    if spec:
        for variable in frame.columns:
            if variable not in spec.names:
                findings.append(Finding(name, None, variable, f"not a variable of {name}"))
    for variable in frame.columns:
        if len(variable) > 8:
            findings.append(Finding(name, None, variable, "name over 8 characters"))
        if len(labels.get(variable) or "") > 40:
            findings.append(Finding(name, None, variable, "label over 40 characters"))
        if variable.endswith("DTC"):
            bad = _per_value(frame[variable], lambda v: v != "" and not _ISO.match(v))
            _first(findings, name, variable, bad, "not an ISO 8601 date")
        codelist = _codelist_of(name, variable)
        if codelist == "COUNTRY":
            _first(
                findings,
                name,
                variable,
                _per_value(frame[variable], lambda v: v != "" and not _COUNTRY.match(v)),
                "not an ISO 3166-1 alpha-3 country code",
            )
        elif codelist and CODELISTS.get(codelist) and frame[variable].dtype == object:
            _each_outside(findings, name, variable, frame[variable], set(CODELISTS[codelist]),
                          f"in codelist {codelist}")  # fmt: skip
    seq = f"{name[:2]}SEQ" if spec else ""
    if seq in frame and "USUBJID" in frame:
        dup = frame.duplicated(["USUBJID", seq], keep="first") & frame[seq].notna()
        _first(findings, name, seq, dup, f"{seq} repeats within the subject")


def _dates(values: pd.Series) -> pd.Series:
    """The full dates (YYYY-MM-DD…) of a --DTC column, NaT for a partial or missing one,
    parsed once per distinct value."""
    codes, distinct = pd.factorize(values, use_na_sentinel=True)
    parsed = pd.to_datetime(
        pd.Series([str(v)[:10] if len(str(v)) >= 10 else "" for v in distinct], dtype=object),
        format="%Y-%m-%d", errors="coerce",
    )  # fmt: skip
    picked = parsed.to_numpy()[np.maximum(codes, 0)] if len(distinct) else codes.astype("M8[ns]")
    return pd.Series(np.where(codes < 0, np.datetime64("NaT"), picked), index=values.index)


def _check_study_days(
    name: str, frame: pd.DataFrame, reference: dict[str, str], findings: list[Finding]
) -> None:
    """--DY from --DTC and RFSTDTC, day 1 the reference day and no day 0 (SDTMIG 3.4
    §4.4.4), computed for the whole column at once."""
    if "USUBJID" not in frame:
        return
    ref = _dates(frame["USUBJID"].map(reference))
    for variable in frame.columns:
        if not variable.endswith("DY") or variable in ("VISITDY", "ADY"):
            continue
        dtc = variable[:-2] + "DTC"
        if dtc not in frame:
            continue
        when = _dates(frame[dtc])
        delta = (when - ref).dt.days
        expected = delta.where(delta < 0, delta + 1)
        day = pd.to_numeric(frame[variable], errors="coerce")
        known = expected.notna()
        wrong = known & ~(day == expected)
        for row in _rows(wrong):
            got, should = day.iloc[row - 1], expected.iloc[row - 1]
            findings.append(Finding(name, row, variable,
                                    f"is {got:g}; {dtc} and RFSTDTC give {should:g}"))  # fmt: skip


def _check_epochs(frames: dict[str, pd.DataFrame], findings: list[Finding]) -> None:
    """Every EPOCH of the data is an epoch of the trial design (CDISC CG0009)."""
    if "TA" not in frames or "EPOCH" not in frames["TA"]:
        return
    epochs = set(frames["TA"]["EPOCH"].dropna().astype(str))
    for name, frame in frames.items():
        if name == "TA" or "EPOCH" not in frame:
            continue
        _each_outside(findings, name, "EPOCH", frame["EPOCH"], epochs, "an epoch of TA")


def _check_standard_results(name: str, frame: pd.DataFrame, findings: list[Finding]) -> None:
    """A numeric standard result and its numeric form are the same number (CORE-000542)."""
    text, number = f"{name[:2]}STRESC", f"{name[:2]}STRESN"
    if text not in frame or number not in frame:
        return
    as_number = pd.to_numeric(frame[text], errors="coerce")
    _first(
        findings,
        name,
        number,
        as_number.notna() & (frame[number].isna() | (as_number != frame[number])),
        f"is not the number in {text}",
    )


def _check_start_of_timing(name: str, frame: pd.DataFrame, findings: list[Finding]) -> None:
    """An end (date or timing relative to the study) needs a start too (FDA FB4301)."""
    prefix = name[:2]
    ends = [v for v in (f"{prefix}ENDTC", f"{prefix}ENRF", f"{prefix}ENRTPT") if v in frame]
    starts = [v for v in (f"{prefix}STDTC", f"{prefix}STRF", f"{prefix}STRTPT") if v in frame]
    if not ends:
        return
    has_end = ~pd.concat([_blank(frame[v]) for v in ends], axis=1).all(axis=1)
    no_start = pd.concat([_blank(frame[v]) for v in starts], axis=1).all(axis=1) if starts else True
    _first(
        findings,
        name,
        "/".join(starts) if starts else f"{prefix}STDTC",
        has_end & no_start,
        f"an end ({'/'.join(ends)}) without a start date or start timing",
    )


def check_folder(directory: Path) -> list[Finding]:
    """Every finding in the folder's datasets; an empty list means clean."""
    files = sorted(directory.glob("*.xpt"))
    if not files:
        raise DataValidationError(f"{directory}: no .xpt files to check")
    findings: list[Finding] = []
    frames: dict[str, pd.DataFrame] = {}
    for path in files:
        frame, labels, _ = read_xpt(path)
        name = path.stem.upper()
        frames[name] = frame
        if frame.empty:
            findings.append(Finding(name, None, "-", "has no records; leave the file out"))
        _check_dataset(name, frame, labels, findings)
        _check_start_of_timing(name, frame, findings)
        _check_standard_results(name, frame, findings)
    _check_epochs(frames, findings)
    studies: set[str] = set()
    for frame in frames.values():
        if "STUDYID" in frame:
            studies |= set(frame["STUDYID"].dropna().astype(str))
    if len(studies) > 1:
        findings.append(
            Finding("*", None, "STUDYID", f"differs between records: {sorted(studies)}")
        )
    subjects_from = "DM" if "DM" in frames else "ADSL" if "ADSL" in frames else None
    if subjects_from is None:
        findings.append(Finding("*", None, "USUBJID", "neither DM nor ADSL is in the folder"))
    else:
        known = set(frames[subjects_from]["USUBJID"].astype(str))
        for name, frame in frames.items():
            if name != subjects_from and "USUBJID" in frame:
                _first(
                    findings,
                    name,
                    "USUBJID",
                    ~frame["USUBJID"].astype(str).isin(known),
                    f"subject not in {subjects_from}",
                )
    if "DM" in frames:
        dm = frames["DM"]
        reference = dict(
            zip(dm["USUBJID"].astype(str), dm["RFSTDTC"].fillna("").astype(str), strict=True)
        )
        for name, frame in frames.items():
            _check_study_days(name, frame, reference, findings)
    define = directory / "define.xml"
    if define.exists():
        try:
            validate_define(define)
        except DataValidationError as error:
            findings.append(Finding("define.xml", None, "-", str(error)))
    else:
        findings.append(Finding("define.xml", None, "-", "missing from the folder"))
    return findings
