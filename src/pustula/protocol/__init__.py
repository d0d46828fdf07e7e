"""A study protocol as data: visit schedule with windows, eligibility rules, endpoints."""

from pustula.protocol.eligibility import CriterionResult, EligibilityResult, evaluate_eligibility
from pustula.protocol.load import load_protocol, parse_protocol
from pustula.protocol.model import Endpoint, LabRule, Protocol, Visit
from pustula.protocol.schedule import day_zero, first_dose, study_day, window_status

__all__ = [
    "CriterionResult",
    "EligibilityResult",
    "Endpoint",
    "LabRule",
    "Protocol",
    "Visit",
    "day_zero",
    "evaluate_eligibility",
    "first_dose",
    "load_protocol",
    "parse_protocol",
    "study_day",
    "window_status",
]
