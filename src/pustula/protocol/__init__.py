"""A study protocol as data: visit schedule with windows, eligibility rules, endpoints."""

from pustula.protocol.eligibility import CriterionResult, EligibilityResult, evaluate_eligibility
from pustula.protocol.load import load_protocol, parse_protocol
from pustula.protocol.model import Endpoint, LabRule, Protocol, Visit
from pustula.protocol.schedule import study_day, window_status

__all__ = [
    "CriterionResult",
    "EligibilityResult",
    "Endpoint",
    "LabRule",
    "Protocol",
    "Visit",
    "evaluate_eligibility",
    "load_protocol",
    "parse_protocol",
    "study_day",
    "window_status",
]
