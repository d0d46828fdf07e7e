"""Edit checks on plain values: lab units, CTCAE grades, lab alerts, adverse events."""

from pustula.checks.adverse_events import check_adverse_event, is_treatment_emergent
from pustula.checks.labs import (
    BaselineLab,
    LabAlert,
    convert_unit,
    ctcae_grade,
    evaluate_lab_alerts,
)

__all__ = [
    "BaselineLab",
    "LabAlert",
    "check_adverse_event",
    "convert_unit",
    "ctcae_grade",
    "evaluate_lab_alerts",
    "is_treatment_emergent",
]
