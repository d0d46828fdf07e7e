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
        │   └── PatientAnswerError    patient_answer       staff cannot change a patient's answers
        ├── ReasonRequiredError       reason_required      changing saved data needs a reason
        ├── DataValidationError       data_invalid         a record to save is not valid
        │   └── PhotoError            photo_refused        an upload is not a usable photograph
        ├── AuditError                audit_broken         the audit hash chain does not verify
        ├── ImportBundleError         import_bundle        an import bundle has a bad row
        ├── LockedError               locked               the study or subject is locked
        ├── SignatureError            signature_refused    an e-signature's credentials are wrong
        ├── RandomizationError        randomization_refused  a subject cannot be randomized
        └── InvitationError           invitation_refused   a patient's link cannot be used

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
    "InvitationError",
    "LockedError",
    "PatientAnswerError",
    "PhotoError",
    "ProtocolError",
    "PustulaError",
    "RandomizationError",
    "ReasonRequiredError",
    "RecordNotFoundError",
    "RowError",
    "ScoringInputError",
    "SignatureError",
    "StoreError",
    "UnknownInstrumentError",
]


class PustulaError(Exception):
    """Base of every error Pustula raises on purpose.

    Examples
    --------
    >>> from pustula.scoring import compute_pga
    >>> try:
    ...     compute_pga("severe")
    ... except PustulaError as error:  # every error Pustula raises on purpose
    ...     print(type(error).__name__)
    ScoringInputError
    """

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

    Examples
    --------
    >>> from pustula.scoring import compute_pga
    >>> compute_pga(5)
    Traceback (most recent call last):
    ...
    pustula.errors.ScoringInputError: PGA grade must be a whole number from 0 to 4; got 5
    """

    code: ClassVar[str] = "scoring_input"

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class UnknownInstrumentError(ScoringInputError, LookupError):
    """No instrument is registered under the requested name.

    Examples
    --------
    >>> from pustula.scoring import get_instrument
    >>> get_instrument("easi")
    Traceback (most recent call last):
    ...
    pustula.errors.UnknownInstrumentError: no instrument named 'easi'; registered instruments are
    pppasi, pga, pga_composite, dlqi, pain_nrs, itch_nrs
    """

    code: ClassVar[str] = "unknown_instrument"


@dataclass(frozen=True)
class RowError:
    """One invalid cell found while scoring or importing a batch.

    ``row`` is 1-based: the first data row (after any header) is row 1.

    Examples
    --------
    >>> row = RowError(row=3, column="pga", value=7, reason="must be a whole number from 0 to 4")
    >>> row.row, row.column
    (3, 'pga')
    """

    row: int
    column: str
    value: object
    reason: str

    def describe(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.reason}"


class BulkScoringError(ScoringInputError):
    """A batch held invalid rows; nothing from it was scored.

    Examples
    --------
    >>> import numpy as np
    >>> from pustula.scoring import get_instrument
    >>> try:
    ...     get_instrument("pga").score_arrays({"pga": np.array([0, 7])})
    ... except BulkScoringError as error:
    ...     print(error.errors[0].row, error.errors[0].reason)
    2 must be a whole number from 0 to 4; got 7
    """

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
    """A study protocol file is missing, unreadable or does not validate.

    Examples
    --------
    >>> from pustula.protocol import load_protocol
    >>> load_protocol("no-such-protocol.yaml")
    Traceback (most recent call last):
    ...
    pustula.errors.ProtocolError: no-such-protocol.yaml: cannot read the protocol file (No such
    file or directory)
    """

    code: ClassVar[str] = "protocol_invalid"


class ConfigurationError(PustulaError, ValueError):
    """A setting is missing or malformed.

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.store import Store, export_bundle, import_bundle
    >>> _ = export_bundle(demo_store(), "export")
    >>> copy = Store.open("sqlite:///copy.sqlite3")
    >>> copy.create_schema()
    >>> import_bundle(copy, "export", user="dm", reason="copy", trust=[Path("partner-keys.pem")])
    Traceback (most recent call last):
    ...
    pustula.errors.ConfigurationError: partner-keys.pem: no such file of trusted public keys
    """

    code: ClassVar[str] = "configuration"


class EligibilityError(PustulaError, ValueError):
    """An eligibility rule cannot be evaluated on the subject data given.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import evaluate_eligibility, load_protocol
    >>> evaluate_eligibility(load_protocol(demo_protocol_file()), {"age": "forty"})
    Traceback (most recent call last):
    ...
    pustula.errors.EligibilityError: cannot compare `age` ('forty') with 18 using >=
    """

    code: ClassVar[str] = "eligibility"


class AnalysisError(PustulaError, ValueError):
    """An analysis option is not allowed, or a dataset lacks what a derivation needs.

    ``field`` names the option or column, so that a form or the CLI can point at it.

    Examples
    --------
    >>> from pustula.analysis import AnalysisSettings
    >>> AnalysisSettings.build(imputation="guess")
    Traceback (most recent call last):
    ...
    pustula.errors.AnalysisError: imputation must be one of 'OC', 'LOCF', 'LOCF_BASELINE', 'NRI';
    got 'guess'
    """

    code: ClassVar[str] = "analysis_invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StoreError(PustulaError):
    """Base for errors raised by the study store.

    Examples
    --------
    >>> from pustula.store import Store, add_site, get_study
    >>> empty = Store.open("sqlite:///never-initialised.sqlite3")
    >>> with empty.transaction(user="dm") as tx:
    ...     get_study(tx.session)
    Traceback (most recent call last):
    ...
    pustula.errors.StoreError: the database has no tables: run `pustula init` (or
    `Store.create_schema()` from Python) to create them; nothing was saved
    """

    code: ClassVar[str] = "store"


class RecordNotFoundError(StoreError, LookupError):
    """The record asked for does not exist (or was removed).

    Examples
    --------
    >>> from pustula.store import get_study, get_subject
    >>> with demo_store().reader() as session:
    ...     get_subject(session, get_study(session), "S99")
    Traceback (most recent call last):
    ...
    pustula.errors.RecordNotFoundError: subject S99 is not in study TOFA-PPP
    """

    code: ClassVar[str] = "record_not_found"


class ConflictError(StoreError):
    """Someone else saved the record since it was read; nothing was overwritten.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Site, update_record
    >>> store = demo_store()
    >>> with store.reader() as session:
    ...     seen = session.scalars(select(Site)).first()   # two people open the same site
    >>> with store.transaction(user="a", reason="renamed") as tx:
    ...     _ = update_record(tx, tx.session.get(Site, seen.id), {"name": "A"}, expected_version=1)
    >>> with store.transaction(user="b", reason="renamed") as tx:
    ...     _ = update_record(tx, tx.session.get(Site, seen.id), {"name": "B"}, expected_version=1)
    Traceback (most recent call last):
    ...
    pustula.errors.ConflictError: site 1 was changed by someone else (now version 2, you edited
    version 1); reload it and apply your change again
    """

    code: ClassVar[str] = "edit_conflict"


class ReasonRequiredError(StoreError, ValueError):
    """Changing or removing saved clinical data needs a reason for the audit trail.

    Examples
    --------
    >>> from sqlalchemy import select
    >>> from pustula.store import Site, update_record
    >>> store = demo_store()
    >>> with store.transaction(user="dm") as tx:
    ...     site = tx.session.scalars(select(Site)).first()
    ...     update_record(tx, site, {"name": "Renamed"}, expected_version=site.version)
    Traceback (most recent call last):
    ...
    pustula.errors.ReasonRequiredError: changing or removing saved data (site 1) needs a reason in
    words
    """

    code: ClassVar[str] = "reason_required"


class DataValidationError(StoreError, ValueError):
    """A record to be saved is not valid; nothing was written.

    ``field`` names the first field that is wrong; ``errors`` maps every wrong field to
    its message (when the whole record was checked), so a form can show them all at once.

    Examples
    --------
    >>> from datetime import date
    >>> from pustula.store import add_lab, get_study, get_subject
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     study = get_study(tx.session)
    ...     add_lab(tx, study, get_subject(tx.session, study, "S01"),
    ...             {"test": "alt", "value": -3, "unit": "U/L", "sample_date": date(2024, 4, 1)})
    Traceback (most recent call last):
    ...
    pustula.errors.DataValidationError: value: ALT in U/L must be from 0 to 20,000; got -3
    """

    code: ClassVar[str] = "data_invalid"

    def __init__(
        self, message: str, *, field: str | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.errors = errors or ({field: message} if field else {})


class AuditError(StoreError):
    """The audit trail's hash chain does not verify: a row was changed or removed.

    Examples
    --------
    >>> from pathlib import Path
    >>> from pustula.store import Store, backup, restore
    >>> written = backup(demo_store(), "nightly.sqlite3")
    >>> with open(written, "r+b") as file:  # a byte changed after the backup was signed
    ...     _ = file.seek(5000)
    ...     _ = file.write(b"X")
    >>> restore(Store.open("sqlite:///restored.sqlite3"), written, user="dm", reason="drill")
    Traceback (most recent call last):
    ...
    pustula.errors.AuditError: nightly.sqlite3 is not the file its signature covers: it changed
    since
    """

    code: ClassVar[str] = "audit_broken"


class ImportBundleError(StoreError, ValueError):
    """An import bundle holds a bad row; nothing was imported.

    Examples
    --------
    >>> error = ImportBundleError("a visit date is not a date", file="visit.csv", row=4)
    >>> str(error), error.file, error.row
    ('a visit date is not a date', 'visit.csv', 4)
    """

    code: ClassVar[str] = "import_bundle"

    def __init__(self, message: str, *, file: str, row: int | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.row = row


class LockedError(StoreError):
    """The study, or the subject, is locked for analysis: nothing can be changed.

    Examples
    --------
    >>> from pustula.store import add_site, get_study
    >>> from pustula.store.services.monitoring import lock
    >>> store = demo_store()
    >>> _ = lock(store, "dm", reason="database lock for the final analysis")
    >>> with store.transaction(user="dr.k") as tx:
    ...     add_site(tx, get_study(tx.session), code="SITE3", name="Third site")
    Traceback (most recent call last):
    ...
    pustula.errors.LockedError: the study is locked for analysis; nothing was saved. An
    administrator can unlock it, with a reason
    """

    code: ClassVar[str] = "locked"


class SignatureError(StoreError):
    """An electronic signature was refused: the user name or password is wrong.

    Examples
    --------
    >>> from pustula.store.services.monitoring import sign
    >>> sign(demo_store(), "dr.k", username="dr.k", password="not my password", code="S01",
    ...      meaning="I approve the data in this casebook")
    Traceback (most recent call last):
    ...
    pustula.errors.SignatureError: the user name or password is not yours; the signature was not
    made
    """

    code: ClassVar[str] = "signature_refused"


class RandomizationError(StoreError):
    """A randomization (or an allocation list, or an unblinding) was refused: the subject is
    not enrolled, was randomized already, the list is used up or was never generated.
    Nothing was changed.

    Examples
    --------
    >>> from pustula.store.services.trial import randomize_subject
    >>> randomize_subject(demo_store(), "dr.k", "S01", confirmed={}, on=None)
    Traceback (most recent call last):
    ...
    pustula.errors.RandomizationError: study TOFA-PPP is not randomized: its protocol has no
    randomization block
    """

    code: ClassVar[str] = "randomization_refused"


class PatientAnswerError(ConflictError):
    """Staff tried to change answers the patient gave; they are the patient's own.

    Staff can raise a query on them or mark them as not used in the analysis, with a
    reason; nothing else changes them, through any form, the API, the CLI or an import.

    Examples
    --------
    >>> raise PatientAnswerError("the dlqi answers of assessment 7 were given by the patient")
    Traceback (most recent call last):
    ...
    pustula.errors.PatientAnswerError: the dlqi answers of assessment 7 were given by the patient
    """

    code: ClassVar[str] = "patient_answer"


class InvitationError(StoreError):
    """A patient's invitation cannot be used: unknown, used, expired, or its visit or
    study is locked. ``reason`` says which, for the study team; a patient is told only
    that the link cannot be used (a guessed token learns nothing).

    Examples
    --------
    >>> error = InvitationError("invitation 3 was used already", reason="used")
    >>> error.code, error.reason
    ('invitation_refused', 'used')
    """

    code: ClassVar[str] = "invitation_refused"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PhotoError(DataValidationError):
    """An uploaded file is refused as a photograph: not a JPEG, PNG or HEIC image, too
    big in bytes or in pixels, a decompression bomb, damaged or incomplete, or carrying
    something besides the picture. ``problem`` says which; nothing was stored.

    Examples
    --------
    >>> error = PhotoError("the file is not a photograph", problem="not_an_image")
    >>> error.code, error.problem, error.field
    ('photo_refused', 'not_an_image', 'file')
    """

    code: ClassVar[str] = "photo_refused"

    def __init__(self, message: str, *, problem: str) -> None:
        super().__init__(message, field="file")
        self.problem = problem
