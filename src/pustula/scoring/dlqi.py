"""DLQI: Dermatology Life Quality Index (Finlay & Khan 1994).

Ten items about the last week, each scored 0–3, total 0–30. Answers may be given as scores
or as answer words: "very much" 3, "a lot" 2, "a little" 1, "not at all" 0 and
"not relevant" 0 (items 3–10 only; items 1 and 2 offer no "not relevant").

Item 7 asks first whether the skin *prevented* work or study: "yes" scores 3. After "no",
its follow-up scores "a lot" 2, "a little" 1, "not at all" 0. A bare "no" is refused,
because it does not say which follow-up answer was ticked.

Missing items: one missing item scores 0; with two or more missing the DLQI has no total.

Only short labels of the items are shipped: the questionnaire text is copyright
(© A Y Finlay, G K Khan 1992).

References
----------
Finlay AY, Khan GK. Dermatology Life Quality Index (DLQI): a simple practical measure for
routine clinical use. Clin Exp Dermatol 1994;19:210-216. doi:10.1111/j.1365-2230.1994.tb01167.x

Hongbo Y, Thomas CL, Harrison MA, Salek MS, Finlay AY. Translating the science of quality of
life into practice: what do Dermatology Life Quality Index scores mean? J Invest Dermatol
2005;125:659-664. doi:10.1111/j.0022-202X.2005.23621.x

Cardiff University, DLQI frequently asked questions (scoring, missing data, subscales).

Examples
--------
>>> answers = {f"dlqi_q{i}": 1 for i in range(1, 11)}
>>> answers["dlqi_q7"] = "yes"
>>> r = compute_dlqi(answers)
>>> r.total, r.band
(12.0, 'very large effect')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from pustula.errors import ScoringInputError
from pustula.scoring._columns import ColumnCheck
from pustula.scoring._values import check_keys, is_missing, require_whole
from pustula.scoring.instrument import BandColumn, Columns, FieldSpec, Instrument
from pustula.scoring.result import ScoreResult

__all__ = ["DLQI", "DLQI_BANDS", "DLQI_DOMAINS", "DLQI_ITEM_LABELS", "compute_dlqi"]

ITEMS: tuple[str, ...] = tuple(f"dlqi_q{i}" for i in range(1, 11))

#: Short labels only; the item texts are copyright.
DLQI_ITEM_LABELS: Mapping[str, str] = dict(
    zip(
        ITEMS,
        (
            "Itchy, sore, painful or stinging skin",
            "Embarrassed or self-conscious",
            "Shopping, home or garden",
            "Clothes worn",
            "Social or leisure activities",
            "Sport",
            "Work or study",
            "Partner, close friends or relatives",
            "Sexual difficulties",
            "Treatment",
        ),
        strict=True,
    )
)

DLQI_DOMAINS: Mapping[str, tuple[str, ...]] = {
    "symptoms_feelings": ("dlqi_q1", "dlqi_q2"),
    "daily_activities": ("dlqi_q3", "dlqi_q4"),
    "leisure": ("dlqi_q5", "dlqi_q6"),
    "work_school": ("dlqi_q7",),
    "personal_relationships": ("dlqi_q8", "dlqi_q9"),
    "treatment": ("dlqi_q10",),
}

#: (lower bound, label), Hongbo 2005.
DLQI_BANDS: tuple[tuple[int, str], ...] = (
    (0, "no effect"),
    (2, "small effect"),
    (6, "moderate effect"),
    (11, "very large effect"),
    (21, "extremely large effect"),
)
_BAND_LOWER = np.array([b[0] for b in DLQI_BANDS])
_BAND_LABELS = tuple(b[1] for b in DLQI_BANDS)


def _words(mapping: Mapping[str, int]) -> dict[str, int]:
    """Accept 'very much', 'very_much' and 'very-much' alike."""
    out: dict[str, int] = {}
    for word, score in mapping.items():
        for form in (word, word.replace(" ", "_"), word.replace(" ", "-")):
            out[form] = score
    return out


_COMMON = {"very much": 3, "a lot": 2, "a little": 1, "not at all": 0}
_LABELS: Mapping[str, Mapping[str, int]] = {
    "dlqi_q1": _words(_COMMON),
    "dlqi_q2": _words(_COMMON),
    "dlqi_q7": _words({"yes": 3, "a lot": 2, "a little": 1, "not at all": 0, "not relevant": 0}),
    **{q: _words({**_COMMON, "not relevant": 0}) for q in ITEMS[2:] if q != "dlqi_q7"},
}


def _item_score(item: str, answer: object) -> int:
    number = int(item.removeprefix("dlqi_q"))
    if isinstance(answer, str):
        key = answer.strip().lower()
        if key in _LABELS[item]:
            return _LABELS[item][key]
        if item == "dlqi_q7" and key == "no":
            hint = "after 'no', give the follow-up answer: 'a lot', 'a little' or 'not at all'"
        else:
            words = sorted({w for w in _LABELS[item] if "_" not in w and "-" not in w})
            hint = f"answers are {', '.join(repr(w) for w in words)} or a score 0-3"
        raise ScoringInputError(
            f"DLQI item {number} ({item}) cannot be scored from {answer!r}: {hint}",
            field=item,
            value=answer,
        )
    return require_whole(answer, what=f"DLQI item {number} ({item})", field=item, low=0, high=3)


def _band(total: float) -> str:
    return _BAND_LABELS[int(np.searchsorted(_BAND_LOWER, total, side="right")) - 1]


def compute_dlqi(answers: Mapping[str, object]) -> ScoreResult:
    """Score one DLQI.

    Parameters
    ----------
    answers
        ``dlqi_q1`` to ``dlqi_q10``: a score 0–3 or an answer word. An item that is absent,
        ``None``, NaN or blank is missing, as an empty cell is in bulk scoring.

    Returns
    -------
    ScoreResult
        ``total`` 0–30 (``None`` with two or more missing items), the Hongbo 2005 ``band``,
        ``subscores`` per Cardiff domain, ``details["missing_items"]``, and a warning when
        one missing item was scored 0.

    Examples
    --------
    >>> answers = {f"dlqi_q{i}": 1 for i in range(1, 11)}
    >>> answers["dlqi_q1"] = "very much"   # itchy, sore, painful or stinging: 3
    >>> answers["dlqi_q7"] = "yes"         # prevented working or studying: 3
    >>> result = compute_dlqi(answers)
    >>> result.total, result.band
    (14.0, 'very large effect')
    """
    check_keys(answers, allowed=set(ITEMS), required=set(), where="DLQI input")
    scores = {q: _item_score(q, answers[q]) for q in ITEMS if not is_missing(answers.get(q))}
    missing = [q for q in ITEMS if q not in scores]
    details = {"missing_items": len(missing)}
    if len(missing) >= 2:
        return ScoreResult(
            instrument=DLQI.name,
            version=DLQI.version,
            total=None,
            details=details,
            warnings=(f"{len(missing)} items missing ({', '.join(missing)}): no DLQI total",),
        )
    warnings = tuple(f"item {q} missing: scored 0 (one missing item allowed)" for q in missing)
    total = float(sum(scores.values()))
    subscores = {d: float(sum(scores.get(q, 0) for q in qs)) for d, qs in DLQI_DOMAINS.items()}
    return ScoreResult(
        instrument=DLQI.name,
        version=DLQI.version,
        total=total,
        subscores=subscores,
        details=details,
        band=_band(total),
        warnings=warnings,
    )


class _DLQI(Instrument):
    name: ClassVar[str] = "dlqi"
    display_name: ClassVar[str] = "DLQI"
    title: ClassVar[str] = "Dermatology Life Quality Index"
    version: ClassVar[str] = "1.0"
    reference: ClassVar[str] = (
        "Finlay AY, Khan GK. Clin Exp Dermatol 1994;19:210-216. "
        "doi:10.1111/j.1365-2230.1994.tb01167.x"
    )
    total_range: ClassVar[tuple[float, float]] = (0.0, 30.0)
    missing_items_allowed: ClassVar[int] = 1
    fields: ClassVar[tuple[FieldSpec, ...]] = tuple(
        FieldSpec(q, 0, 3, labels=_LABELS[q], may_be_missing=True) for q in ITEMS
    )

    def score(self, values: Mapping[str, object]) -> ScoreResult:
        return compute_dlqi(values)

    def score_columns(self, checked: Mapping[str, ColumnCheck], n_rows: int) -> Columns:
        total = np.zeros(n_rows, dtype=np.int16)
        n_missing = np.zeros(n_rows, dtype=np.int8)
        for q in ITEMS:
            np.add(total, checked[q].values, out=total, casting="unsafe")
            n_missing += checked[q].missing
        scored = n_missing <= 1
        totals = np.where(scored, total, np.nan)
        codes = np.searchsorted(_BAND_LOWER, total, side="right") - 1
        out: Columns = {
            "total": totals,
            "band": BandColumn(np.where(scored, codes, -1).astype(np.int8), _BAND_LABELS),
        }
        for domain, qs in DLQI_DOMAINS.items():
            part = sum(checked[q].values.astype(np.float64) for q in qs)
            out[domain] = np.where(scored, part, np.nan)
        out["missing_items"] = n_missing
        return out


DLQI = _DLQI()
