"""The facts eligibility rules are written over, with the words a person reads for each.

A rule names a fact by its dotted path (``labs.lymphocytes``); a reason shown to a
coordinator names it by its label and unit ("Lymphocytes 1,800/mm³").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["COMPARISONS", "FACTS", "Fact", "describe_value", "fact"]

#: How a comparison reads in words ("≥ 18 years"; equality reads as the value alone).
COMPARISONS = {"==": "", "!=": "not ", "<": "< ", "<=": "≤ ", ">": "> ", ">=": "≥ ",
               "in": "one of ", "not in": "none of ", "contains": "to include "}  # fmt: skip


@dataclass(frozen=True)
class Fact:
    label: str
    unit: str = ""


FACTS: dict[str, Fact] = {
    "age": Fact("Age", " years"),
    "sex": Fact("Sex"),
    "eraspen_ppp": Fact("PPP by ERASPEN criteria"),
    "disease_duration_months": Fact("PPP duration", " months"),
    "smoking": Fact("Smoking"),
    "pack_years": Fact("Pack-years"),
    "prior.topical_failed": Fact("Topical drugs without response"),
    "prior.systemic_failed": Fact("Systemic drugs without response"),
    "prior.biologic_failed": Fact("Biologics without response"),
    "labs.lymphocytes": Fact("Lymphocytes", "/mm³"),
    "labs.neutrophils": Fact("Neutrophils", "/mm³"),
    "labs.haemoglobin": Fact("Haemoglobin", " g/dL"),
    "screening.tuberculosis": Fact("Tuberculosis screen"),
    "screening.hepatitis": Fact("Hepatitis B/C screen"),
}


def fact(path: str) -> Fact:
    """The fact at ``path``; an unlisted one is named by its last part, in words."""
    return FACTS.get(path) or Fact(path.rsplit(".", 1)[-1].replace("_", " ").capitalize())


def describe_value(path: str, value: Any) -> str:
    """A value as a person reads it: thousands separated, with the fact's unit."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return " or ".join(describe_value(path, v) for v in value)
    if isinstance(value, int | float):
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,g}"
        return f"{text}{fact(path).unit}"
    return str(value).replace("_", " ")
