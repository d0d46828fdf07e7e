"""Studies, sites and enrolment with the protocol's eligibility check."""

from __future__ import annotations

import functools
from collections.abc import Iterable

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.protocol import Protocol, parse_protocol
from pustula.store.accounts.studies import study_in_scope
from pustula.store.db.models import (
    ProtocolVersion,
    Site,
    Study,
    Subject,
)
from pustula.store.db.uow import Transaction

__all__ = [
    "add_site",
    "add_study",
    "get_study",
    "get_subject",
    "protocol_from_text",
    "protocol_of",
]


def add_study(
    tx: Transaction,
    protocol: Protocol,
    *,
    sites: Iterable[tuple[str, str]],
    synthetic: bool = False,
) -> Study:
    """Create a study from a validated protocol, with its sites as ``(code, name)`` pairs.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> from pustula.store import Store
    >>> store = Store.open("sqlite:///new-study.sqlite3")
    >>> store.create_schema()
    >>> with store.transaction(user="dr.k") as tx:
    ...     study = add_study(tx, load_protocol(demo_protocol_file()), sites=[("A", "Site A")])
    >>> study.code
    'TOFA-PPP'
    """
    session = tx.session
    if session.scalar(select(Study).where(Study.code == protocol.id)) is not None:
        raise DataValidationError(f"study {protocol.id} already exists", field="code")
    # what the file stated, not the defaults filled in: "fixed by the plan" stays knowable
    stated = protocol.model_dump(mode="json", by_alias=True, exclude_unset=True)
    text = yaml.safe_dump(stated, sort_keys=False)
    study = Study(
        code=protocol.id,
        title=protocol.title,
        protocol_version=protocol.version,
        protocol_yaml=text,
        synthetic=synthetic,
    )
    session.add(study)
    session.flush()
    # the protocol the study starts with is its first approved version
    session.add(ProtocolVersion(
        study_id=study.id, protocol_version=study.protocol_version, protocol_yaml=text,
        status="approved", summary="The protocol the study was created with.",
        reconsent=False, approved_by=tx.user, approved_at=str(session.info["at"]),
        approval_reason="first version of the study",
    ))  # fmt: skip
    for code, name in sites:
        add_site(tx, study, code=code, name=name)
    return study


def add_site(tx: Transaction, study: Study, *, code: str, name: str) -> Site:
    """Add a site (code and name) to ``study``.

    Examples
    --------
    >>> store = demo_store()
    >>> with store.transaction(user="dr.k") as tx:
    ...     site = add_site(tx, get_study(tx.session), code="SITE3", name="Third site")
    >>> site.code, site.name
    ('SITE3', 'Third site')
    """
    site = Site(study_id=study.id, code=code, name=name)
    tx.session.add(site)
    tx.session.flush()
    return site


def get_study(session: Session, code: str | None = None) -> Study:
    """The study with ``code``; when ``code`` is None, the study the session is scoped to
    (:meth:`~pustula.store.db.uow.Store.for_study`), else the only study.

    Examples
    --------
    >>> with demo_store().reader() as session:
    ...     study = get_study(session)
    >>> study.code, study.synthetic
    ('TOFA-PPP', True)
    """
    if code is None:
        return study_in_scope(session)
    study = session.scalar(select(Study).where(Study.deleted_at.is_(None), Study.code == code))
    if study is None:
        raise RecordNotFoundError(f"study {code} does not exist")
    return study


def protocol_of(study: Study) -> Protocol:
    """The protocol stored with ``study`` (parsed once per distinct text).

    Examples
    --------
    >>> with demo_store().reader() as session:
    ...     protocol = protocol_of(get_study(session))
    >>> [endpoint.id for endpoint in protocol.endpoints][:2]
    ['PPPASI50_W4', 'PPPASI80_W4']
    """
    return _parse_stored(study.protocol_yaml, study.code)


def protocol_from_text(text: str, study_code: str) -> Protocol:
    """The protocol from a study's stored text (parsed once per distinct text)."""
    return _parse_stored(text, study_code)


@functools.lru_cache(maxsize=64)
def _parse_stored(text: str, code: str) -> Protocol:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return parse_protocol(yaml.load(text, Loader=loader), source=f"study {code}")


def get_subject(session: Session, study: Study, code: str) -> Subject:
    """The subject of ``study`` with study code ``code``.

    Raises
    ------
    RecordNotFoundError
        No live subject has that code.

    Examples
    --------
    >>> with demo_store().reader() as session:
    ...     subject = get_subject(session, get_study(session), "S04")
    >>> subject.code, subject.status
    ('S04', 'enrolled')
    """
    subject = session.scalar(
        select(Subject).where(
            Subject.study_id == study.id, Subject.code == code, Subject.deleted_at.is_(None)
        )
    )
    if subject is None:
        raise RecordNotFoundError(f"subject {code} is not in study {study.code}")
    return subject


def count_subjects(session: Session, study: Study) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Subject).where(Subject.study_id == study.id)
        )
        or 0
    )
