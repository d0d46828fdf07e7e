"""The analysis populations of a randomized trial, as its protocol defines them, and the
kinds of protocol deviation a per-protocol analysis can exclude.

ICH E9 names the sets: the full analysis set as close as possible to intention to treat
(every randomized subject, in the arm they were randomized to), a modified ITT that
leaves out subjects without what the protocol names (a dose, a baseline), a per-protocol
set without the subjects whose deviations could bias the comparison, and a safety set of
everyone dosed, analysed as treated.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["DEVIATION_CATEGORIES", "MITT_CRITERIA", "TrialPopulations"]

#: Deviation kinds: stored code -> what a reader of the report sees.
DEVIATION_CATEGORIES: dict[str, str] = {
    "randomization stratum": "Randomized in a stratum other than the casebook's",
    "eligibility": "Randomized although an eligibility criterion was not met",
    "wrong treatment": "Received a kit or treatment of another arm",
    "treatment compliance": "Took fewer study drug doses than the protocol requires",
    "prohibited medication": "Took a medication the protocol prohibits",
    "visit out of window": "Attended the primary endpoint's visit outside its window",
    "other": "Another deviation from the protocol",
}

#: What a subject needs, beyond randomization, to be in the modified ITT set.
MITT_CRITERIA: dict[str, str] = {
    "dosed": "at least one dose of study drug",
    "baseline_pppasi": "a baseline PPPASI",
    "post_baseline_pppasi": "a PPPASI after baseline",
}


class TrialPopulations(BaseModel):
    """How the protocol defines the modified ITT and per-protocol sets.

    Examples
    --------
    >>> populations = TrialPopulations()
    >>> populations.mitt, populations.per_protocol_excludes[:2]
    (('dosed', 'baseline_pppasi'), ('eligibility', 'wrong treatment'))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mitt: tuple[Literal["dosed", "baseline_pppasi", "post_baseline_pppasi"], ...] = (
        "dosed",
        "baseline_pppasi",
    )
    #: deviation kinds that take a subject out of the per-protocol set
    per_protocol_excludes: tuple[str, ...] = Field(
        default=("eligibility", "wrong treatment", "treatment compliance", "prohibited medication")
    )

    @field_validator("per_protocol_excludes")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in DEVIATION_CATEGORIES]
        if unknown:
            raise ValueError(
                f"unknown deviation kind {', '.join(unknown)}; known: "
                + ", ".join(DEVIATION_CATEGORIES)
            )
        return value
