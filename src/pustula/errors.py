"""The one exception tree of Pustula.

Every error Pustula raises on purpose derives from :class:`PustulaError` and carries a
stable, machine-readable ``code`` that scripts, the CLI and the web API can rely on.
Messages say what was wrong, where, and what to do about it.

::

    PustulaError                      pustula_error
    ├── ScoringInputError             scoring_input        bad item value for an instrument
    │   ├── UnknownInstrumentError    unknown_instrument
    │   └── BulkScoringError          bulk_scoring_input   one or more bad rows in a batch
    ├── ProtocolError                 protocol_invalid     a study protocol file does not validate
    ├── ConfigurationError            configuration        a setting is missing or malformed
    ├── EligibilityError              eligibility          a rule cannot be evaluated on the data
    ├── AnalysisError                 analysis_invalid     a bad analysis option or dataset
    └── StoreError                    store
        ├── RecordNotFoundError       record_not_found
        ├── ConflictError             edit_conflict        optimistic lock: someone saved first
        ├── ReasonRequiredError       reason_required      changing saved data needs a reason
        ├── DataValidationError       data_invalid         a record to save is not valid
        ├── AuditError                audit_broken         the audit hash chain does not verify
        ├── ImportBundleError         import_bundle        an import bundle has a bad row
        ├── LockedError               locked               the study or subject is locked
        └── SignatureError            signature_refused    an e-signature's credentials are wrong

Each subclass also derives from the closest built-in (``ValueError``, ``LookupError``) so
that generic callers keep working, but Pustula code always catches its own classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "AnalysisError",
    "AuditError",
    "BulkScoringError",
    "ConfigurationError",
    "ConflictError",
    "DataValidationError",
    "EligibilityError",
    "ImportBundleError",
    "LockedError",
    "ProtocolError",
    "PustulaError",
    "ReasonRequiredError",
    "RecordNotFoundError",
    "RowError",
    "ScoringInputError",
    "SignatureError",
    "StoreError",
    "UnknownInstrumentError",
]


class PustulaError(Exception):
    """Base of every error Pustula raises on purpose."""

    code: ClassVar[str] = "pustula_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ScoringInputError(PustulaError, ValueError):
    """An instrument received a value it cannot score.

    ``field`` names the offending input (for example ``right_palm.area_pct``) and ``value``
    holds what was received, so that a form can show the message next to the field.
    """

    code: ClassVar[str] = "scoring_input"

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class UnknownInstrumentError(ScoringInputError, LookupError):
    """No instrument is registered under the requested name."""

    code: ClassVar[str] = "unknown_instrument"


@dataclass(frozen=True)
class RowError:
    """One invalid cell found while scoring or importing a batch.

    ``row`` is 1-based: the first data row (after any header) is row 1.
    """

    row: int
    column: str
    value: object
    reason: str

    def describe(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.reason}"


class BulkScoringError(ScoringInputError):
    """A batch held invalid rows; nothing from it was scored."""

    code: ClassVar[str] = "bulk_scoring_input"
    shown: ClassVar[int] = 5

    def __init__(self, errors: Sequence[RowError], *, n_rows: int) -> None:
        self.errors = tuple(errors)
        bad_rows = len({e.row for e in self.errors})
        head = "; ".join(e.describe() for e in self.errors[: self.shown])
        more = len(self.errors) - self.shown
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(
            f"{bad_rows} of {n_rows} rows are invalid, so none was scored: {head}{tail}. "
            "Fix these rows, or score with errors='collect' to get per-row errors."
        )


class ProtocolError(PustulaError, ValueError):
    """A study protocol file is missing, unreadable or does not validate."""

    code: ClassVar[str] = "protocol_invalid"


class ConfigurationError(PustulaError, ValueError):
    """A setting is missing or malformed."""

    code: ClassVar[str] = "configuration"


class EligibilityError(PustulaError, ValueError):
    """An eligibility rule cannot be evaluated on the subject data given."""

    code: ClassVar[str] = "eligibility"


class AnalysisError(PustulaError, ValueError):
    """An analysis option is not allowed, or a dataset lacks what a derivation needs.

    ``field`` names the option or column, so that a form or the CLI can point at it.
    """

    code: ClassVar[str] = "analysis_invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreError(PustulaError):
    """Base for errors raised by the study store."""

    code: ClassVar[str] = "store"


class RecordNotFoundError(StoreError, LookupError):
    """The record asked for does not exist (or was removed)."""

    code: ClassVar[str] = "record_not_found"


class ConflictError(StoreError):
    """Someone else saved the record since it was read; nothing was overwritten."""

    code: ClassVar[str] = "edit_conflict"


class ReasonRequiredError(StoreError, ValueError):
    """Changing or removing saved clinical data needs a reason for the audit trail."""

    code: ClassVar[str] = "reason_required"


class DataValidationError(StoreError, ValueError):
    """A record to be saved is not valid; nothing was written.

    ``field`` names the first field that is wrong; ``errors`` maps every wrong field to
    its message (when the whole record was checked), so a form can show them all at once.
    """

    code: ClassVar[str] = "data_invalid"

    def __init__(
        self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class AuditError(StoreError):
    """The audit trail's hash chain does not verify: a row was changed or removed."""

    code: ClassVar[str] = "audit_broken"


class ImportBundleError(StoreError, ValueError):
    """An import bundle holds a bad row; nothing was imported."""

    code: ClassVar[str] = "import_bundle"

    def __init__(self, message: str, *, file: str, row: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.row = row


class LockedError(StoreError):
    """The study, or the subject, is locked for analysis: nothing can be changed."""

    code: ClassVar[str] = "locked"


class SignatureError(StoreError):
    """An electronic signature was refused: the user name or password is wrong."""

    code: ClassVar[str] = "signature_refused"
