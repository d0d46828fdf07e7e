"""Analysis datasets from a study's data: ADSL (one row per subject) and ADQS (BDS).

ADaM conventions: ADY counts the first dose day as day 1 (there is no day 0), so it
differs by one from the visit schedule's study day, which counts the first dose day as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pustula.analysis.ci import CIMethod
from pustula.analysis.derive import (
    CUTOFFS,
    Imputation,
    Operator,
    derive_param_imputed,
    derive_var_base,
    derive_var_chg,
    derive_var_pga_response,
    derive_var_responders,
)
from pustula.store.extract import StudyData

__all__ = [
    "PARAMS",
    "AnalysisData",
    "AnalysisSettings",
    "build_adqs",
    "build_adsl",
    "build_analysis",
]

PARAMS: dict[str, tuple[str, str]] = {
    "pppasi": ("PPPASI", "PPPASI total (0-72)"),
    "pga": ("PGA", "PPP PGA (0-4)"),
    "pga_composite": ("PGACOMP", "PPP PGA, composite (0-4)"),
    "dlqi": ("DLQI", "DLQI total (0-30)"),
    "pain_nrs": ("PAINNRS", "Pain NRS (0-10)"),
    "itch_nrs": ("ITCHNRS", "Itch NRS (0-10)"),
}


@dataclass(frozen=True)
class AnalysisSettings:
    """The choices that change results; the report's methods section is written from these."""

    operator: Operator = ">="
    #: Overrides each endpoint's own operator from the protocol when set.
    endpoint_operator: Operator | None = None
    cutoffs: tuple[int, ...] = CUTOFFS
    imputation: Imputation = "OC"
    ci_method: CIMethod = "clopper-pearson"
    alpha: float = 0.05
    pga_baseline_min: int | None = None
    pga_min_improvement: int | None = None
    posterior_prior: tuple[float, float] = (1.0, 1.0)


@dataclass(frozen=True)
class AnalysisData:
    study: StudyData
    settings: AnalysisSettings
    adsl: pd.DataFrame
    adqs: pd.DataFrame
    visits: tuple[tuple[str, str, float], ...] = field(default=())  # (code, label, AVISITN)

    @property
    def pga_crit(self) -> int:
        return len(self.settings.cutoffs) + 1


def visit_number(day: int) -> float:
    """AVISITN: the planned week (day 28 is 4.0; day 10 is 1.4)."""
    return round(day / 7, 1)


def _flag(values: pd.Series) -> Any:
    return np.where(values, "Y", "N")


def build_adsl(data: StudyData) -> pd.DataFrame:
    """One row per subject: demographics, disposition, treatment dates, baseline facts."""
    s = data.subjects
    adsl = pd.DataFrame(
        {
            "STUDYID": data.code,
            "USUBJID": data.code + "-" + s["subject"],
            "SUBJID": s["subject"],
            "SITEID": s["site"],
            "AGE": s["age"],
            "SEX": s["sex"].str.upper().str[0].where(s["sex"].isin(["female", "male"]), "U"),
            "ARM": s["arm"],
            "STATUS": s["status"],
            "SCRNDT": s["screened_on"],
            "TRTSDT": s["first_dose"],
            "TRTEDT": s["last_dose"],
            "ENRLFL": _flag(s["status"].isin(["enrolled", "completed", "withdrawn"])),
            "SAFFL": _flag(s["first_dose"].notna()),
            "DURDISM": s["disease_duration_months"],
            "SMOKING": s["smoking"],
            "PACKYRS": s["pack_years"],
            "TRIGGERS": s["triggers"],
            "COMORB": s["comorbidities"],
        }
    )
    return adsl.reset_index(drop=True)


def build_adqs(data: StudyData, adsl: pd.DataFrame) -> pd.DataFrame:
    """One row per subject, parameter and visit, from the scored assessments."""
    a = data.assessments[data.assessments["instrument"].isin(list(PARAMS))]
    order = {v.code: (v.label, visit_number(v.day)) for v in data.protocol.visits}
    bds = pd.DataFrame(
        {
            "USUBJID": data.code + "-" + a["subject"],
            "PARAMCD": a["instrument"].map(lambda i: PARAMS[i][0]),
            "PARAM": a["instrument"].map(lambda i: PARAMS[i][1]),
            "VISITCD": a["visit_code"],
            "AVISIT": a["visit_code"].map(lambda c: order[c][0]),
            "AVISITN": a["visit_code"].map(lambda c: order[c][1]),
            "ADT": a["visit_date"],
            "AVAL": a["total"].astype(float),
            "INSTVER": a["instrument_version"],
        }
    )
    bds = bds.merge(
        adsl[["USUBJID", "SUBJID", "SITEID", "TRTSDT", "SAFFL"]], on="USUBJID", how="left"
    )
    days = (bds["ADT"] - bds["TRTSDT"]).dt.days
    bds["ADY"] = np.where(days >= 0, days + 1, days)
    bds["DTYPE"] = None
    return bds.sort_values(["USUBJID", "PARAMCD", "AVISITN"]).reset_index(drop=True)


def build_analysis(data: StudyData, settings: AnalysisSettings | None = None) -> AnalysisData:
    """ADSL and the derived ADQS: baseline, imputation, change, responders, PGA 0/1."""
    settings = settings or AnalysisSettings()
    adsl = build_adsl(data)
    bds = derive_var_base(build_adqs(data, adsl))
    base_code = data.protocol.baseline_visit.code
    post = [(v.label, visit_number(v.day)) for v in data.protocol.visits if v.code != base_code]
    code_of = {v.label: v.code for v in data.protocol.visits}
    bds = derive_param_imputed(bds, visits=post, method=settings.imputation)
    bds["VISITCD"] = bds["AVISIT"].map(code_of)
    bds = derive_var_chg(bds)
    bds = derive_var_responders(bds, cutoffs=settings.cutoffs, operator=settings.operator)
    bds = derive_var_pga_response(
        bds,
        baseline_min=settings.pga_baseline_min,
        min_improvement=settings.pga_min_improvement,
        crit=len(settings.cutoffs) + 1,
    )
    visits = tuple((v.code, v.label, visit_number(v.day)) for v in data.protocol.visits)
    return AnalysisData(data, settings, adsl, bds, visits)
