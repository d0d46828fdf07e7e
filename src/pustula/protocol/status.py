"""The states a subject and a visit can be in: one definition, as string enums.

``StrEnum`` members equal their text, so the database keeps plain text and every layer
compares against these names instead of spelling the strings again.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ENROLLED_STATES", "SCREENING_STATES", "SubjectStatus", "VisitStatus", "WindowStatus"]


class SubjectStatus(StrEnum):
    #: Screened, but a criterion cannot be evaluated yet (a result is missing).
    SCREENING_PENDING = "screening_pending"
    ENROLLED = "enrolled"
    SCREEN_FAILURE = "screen_failure"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


#: Every state of a subject who passed screening and was enrolled.
ENROLLED_STATES = (SubjectStatus.ENROLLED, SubjectStatus.COMPLETED, SubjectStatus.WITHDRAWN)
#: States from which screening can be repeated.
SCREENING_STATES = (SubjectStatus.SCREENING_PENDING, SubjectStatus.SCREEN_FAILURE)


class VisitStatus(StrEnum):
    DONE = "done"
    MISSED = "missed"


class WindowStatus(StrEnum):
    IN_WINDOW = "in_window"
    EARLY = "early"
    LATE = "late"
