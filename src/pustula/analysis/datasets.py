"""Analysis datasets from a study's data: ADSL (one row per subject) and ADQS (BDS).

ADaM conventions: ADY counts the first dose day as day 1 (there is no day 0), so it
differs by one from the visit schedule's study day, which counts the first dose day as 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from pustula.analysis.derive import (
    derive_param_imputed,
    derive_var_base,
    derive_var_chg,
    derive_var_pga_response,
    derive_var_responders,
    derive_var_window,
)
from pustula.analysis.populations import derive_trial_populations
from pustula.analysis.settings import AnalysisSettings
from pustula.protocol.status import ENROLLED_STATES, SubjectStatus
from pustula.store.transfer.extract import StudyData

__all__ = [
    "PARAMS",
    "POPULATIONS",
    "AnalysisData",
    "AnalysisSettings",
    "build_adqs",
    "build_adsl",
    "build_analysis",
]

PARAMS: dict[str, tuple[str, str]] = {
    "pppasi": ("PPPASI", "PPPASI total (0–72)"),
    "pga": ("PGA", "PPP PGA (0–4)"),
    "pga_composite": ("PGACOMP", "PPP PGA, composite (0–4)"),
    "dlqi": ("DLQI", "DLQI total (0–30)"),
    "pain_nrs": ("PAINNRS", "Pain NRS (0–10)"),
    "itch_nrs": ("ITCHNRS", "Itch NRS (0–10)"),
}

#: The analysis populations: ADSL flag, name and definition, as the report states them.
POPULATIONS: tuple[tuple[str, str, str], ...] = (
    ("ENRLFL", "Enrolled", "subjects who passed screening and were enrolled"),
    ("SAFFL", "Safety set", "enrolled subjects who received at least one dose"),
    (
        "FASFL",
        "Full analysis set",
        "subjects of the safety set with a baseline PPPASI; every efficacy table, figure "
        "and endpoint is computed in this set",
    ),
)


@dataclass(frozen=True)
class AnalysisData:
    """ADSL and ADQS derived with one set of settings, which every output formats.

    Examples
    --------
    >>> analysis = demo_analysis()
    >>> len(analysis.adsl), sorted(analysis.adqs["PARAMCD"].unique())
    (6, ['PGA', 'PPPASI'])
    """

    study: StudyData
    settings: AnalysisSettings
    adsl: pd.DataFrame
    adqs: pd.DataFrame
    visits: tuple[tuple[str, str, float], ...] = field(default=())  # (code, label, AVISITN)
    #: Post-baseline records outside their protocol window that the analysis left out
    #: (``visit_windows="protocol"`` only); with "nominal" they stay in, flagged OUTWINFL.
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def pga_crit(self) -> int:
        return len(self.settings.cutoffs) + 1

    def crit(self, cutoff: int) -> int:
        """The y of CRITy / CRITyFL that holds the PPPASI cut-off ``cutoff``."""
        return self.settings.cutoffs.index(cutoff) + 1

    @cached_property
    def efficacy(self) -> pd.DataFrame:
        """ADQS records of the full analysis set: what every efficacy output reads."""
        return self.adqs[self.adqs["FASFL"] == "Y"]

    @property
    def out_of_window(self) -> pd.DataFrame:
        """Observed post-baseline records outside their protocol window, analysed or not."""
        flagged = self.adqs[(self.adqs["OUTWINFL"] == "Y") & self.adqs["ABLFL"].ne("Y")]
        return pd.concat([flagged, self.excluded], ignore_index=True)


def visit_number(day: int) -> float:
    """AVISITN: the planned week (day 28 is 4.0; day 10 is 1.4)."""
    return round(day / 7, 1)


def _flag(values: pd.Series) -> Any:
    return np.where(values, "Y", "N")


_END_STATUS = {
    SubjectStatus.ENROLLED: "ONGOING",
    SubjectStatus.COMPLETED: "COMPLETED",
    SubjectStatus.WITHDRAWN: "DISCONTINUED",
}


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
            "ENRLFL": _flag(s["status"].isin([str(x) for x in ENROLLED_STATES])),
            "SAFFL": _flag(s["first_dose"].notna()),
            "WDFL": _flag(s["status"] == SubjectStatus.WITHDRAWN),
            # end of study (ADaM IG: EOSSTT, EOSDT, DCSREAS)
            "EOSSTT": s["status"].map(_END_STATUS).fillna(""),
            "EOSDT": s["ended_on"],
            "DCSREAS": s["end_reason"].where(s["status"] == SubjectStatus.WITHDRAWN),
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
    # an instrument not done (no total) is no analysis record: it is missing, as if not collected
    a = data.assessments[
        data.assessments["instrument"].isin(list(PARAMS)) & data.assessments["total"].notna()
    ]
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
    """ADSL and the derived ADQS: windows, baseline, imputation, change, responders, PGA 0/1.

    ``settings`` default to the protocol's analysis plan. Every endpoint's cut-off is
    derived with the rest, so endpoints, tables and figures read the same flags.

    Examples
    --------
    >>> from pustula.store.transfer.extract import read_study
    >>> data = read_study(demo_store())
    >>> analysis = build_analysis(data)
    >>> week4 = analysis.adqs.query("PARAMCD == 'PPPASI' and AVISIT == 'Week 4'")
    >>> len(week4), bool((week4["PCHG"] <= -50).all())
    (6, True)
    """
    protocol = data.protocol
    settings = settings or AnalysisSettings.from_protocol(protocol)
    thresholds = {e.threshold for e in protocol.endpoints if e.threshold is not None}
    if not thresholds <= set(settings.cutoffs):
        settings = settings.model_copy(
            update={"cutoffs": tuple(sorted(set(settings.cutoffs) | thresholds))}
        )
    adsl = build_adsl(data)
    bds = derive_var_window(build_adqs(data, adsl), visits=protocol.visits, history=data.history)
    base_code = protocol.baseline_visit.code
    excluded = bds.iloc[0:0]
    if settings.visit_windows == "protocol":
        outside = (bds["OUTWINFL"] == "Y") & (bds["VISITCD"] != base_code)
        excluded, bds = bds[outside].reset_index(drop=True), bds[~outside]
    bds = derive_var_base(bds)
    post = [(v.label, visit_number(v.day)) for v in protocol.visits if v.code != base_code]
    code_of = {v.label: v.code for v in protocol.visits}
    bds = derive_param_imputed(bds, visits=post, method=settings.imputation)
    bds["VISITCD"] = bds["AVISIT"].map(code_of)
    bds = derive_var_chg(bds)
    bds = derive_var_responders(
        bds,
        cutoffs=settings.cutoffs,
        operator=settings.operator,
        baseline_zero=settings.baseline_zero,
    )
    bds = derive_var_pga_response(
        bds,
        baseline_min=settings.pga_baseline_min,
        min_improvement=settings.pga_min_improvement,
        crit=len(settings.cutoffs) + 1,
    )
    adsl, bds = _full_analysis_set(adsl, bds)
    if protocol.randomized:
        adsl = derive_trial_populations(adsl, bds, data)
    visits = tuple((v.code, v.label, visit_number(v.day)) for v in protocol.visits)
    return AnalysisData(data, settings, adsl, bds, visits, excluded)


def _full_analysis_set(adsl: pd.DataFrame, bds: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """FASFL: dosed subjects with a baseline PPPASI, on ADSL and on every ADQS record."""
    with_base = bds.loc[(bds["PARAMCD"] == "PPPASI") & bds["ABLFL"].eq("Y"), "USUBJID"]
    adsl = adsl.assign(FASFL=_flag((adsl["SAFFL"] == "Y") & adsl["USUBJID"].isin(with_base)))
    bds = bds.drop(columns=["FASFL"], errors="ignore").merge(
        adsl[["USUBJID", "FASFL"]], on="USUBJID", how="left"
    )
    return adsl, bds
