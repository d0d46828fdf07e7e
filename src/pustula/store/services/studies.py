"""Studies on one server: the ones a user may open, creating one from its protocol file,
and who holds which role in a study (decision 0019)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from pustula.errors import DataValidationError, ProtocolError, RecordNotFoundError
from pustula.protocol.lines import ProtocolProblem, check_protocol_text
from pustula.store.accounts.studies import (
    StudyAccess,
    grant_role,
    revoke_role,
    roles_in_study,
    studies_of,
)
from pustula.store.db.models import Study, User
from pustula.store.db.uow import Store
from pustula.store.monitoring.queries import list_sites
from pustula.store.records.study import add_study, get_study

__all__ = [
    "Member",
    "StudyDraft",
    "check_new_study",
    "create_study",
    "first_study_of",
    "give_role",
    "members_of",
    "my_studies",
    "parse_sites",
    "studies_on_server",
    "study_sites",
    "take_role",
]

_SITE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")


@dataclass(frozen=True)
class StudyDraft:
    """A protocol file and site list checked for a new study: the problems, if any, each
    with its line or its field, and the study's id and title when it is valid."""

    code: str | None
    title: str | None
    sites: list[tuple[str, str]]
    problems: list[ProtocolProblem]
    site_errors: list[str]


@dataclass(frozen=True)
class Member:
    username: str
    role: str
    sites: tuple[str, ...]


def my_studies(store: Store, user_id: int) -> list[StudyAccess]:
    """The studies the user may open, oldest first."""
    with store.reader() as session:
        return studies_of(session, user_id)


def studies_on_server(store: Store) -> int:
    """How many live studies the database holds."""
    with store.reader() as session:
        return int(session.scalar(
            select(func.count()).select_from(Study).where(Study.deleted_at.is_(None))
        ) or 0)  # fmt: skip


def first_study_of(store: Store, user_id: int) -> str | None:
    """The code of the first study the user may open (None: none yet)."""
    studies = my_studies(store, user_id)
    return studies[0].code if studies else None


def parse_sites(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Sites typed one per line as ``CODE Name``; the sites, and what is wrong (by line)."""
    sites, errors, seen = [], [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code, _, name = line.strip().partition(" ")
        if not _SITE_CODE.fullmatch(code):
            errors.append(
                f"line {number}: a site code is letters and digits (with - or _), up to 40"
            )
        elif not name.strip():
            errors.append(f"line {number}: give the site's name after its code")
        elif code in seen:
            errors.append(f"line {number}: site {code} is listed twice")
        else:
            seen.add(code)
            sites.append((code, name.strip()[:200]))
    if not sites and not errors:
        errors.append("give at least one site")
    return sites, errors


def check_new_study(store: Store, protocol_text: str, sites_text: str) -> StudyDraft:
    """Check a protocol file and a site list for a new study, without saving anything."""
    protocol, problems = check_protocol_text(protocol_text)
    sites, site_errors = parse_sites(sites_text)
    if protocol is not None:
        try:
            with store.reader() as session:
                get_study(session, protocol.id)
            problems = [ProtocolProblem(
                _id_line(protocol_text), "id",
                f"a study {protocol.id} already exists on this server; give the new study "
                "its own id",
            )]  # fmt: skip
        except RecordNotFoundError:
            pass
    valid = protocol is not None and not problems
    return StudyDraft(
        protocol.id if valid and protocol else None,
        protocol.title if valid and protocol else None,
        sites, problems, site_errors,
    )  # fmt: skip


def _id_line(text: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("id:"):
            return number
    return None


def create_study(store: Store, *, user: str, protocol_text: str, sites_text: str) -> str:
    """Create a study from its protocol file's text and its sites; return its code.

    Raises
    ------
    ProtocolError
        The file or the sites have problems (nothing is saved); :func:`check_new_study`
        lists them by line.
    """
    draft = check_new_study(store, protocol_text, sites_text)
    protocol, _ = check_protocol_text(protocol_text)
    if draft.problems or draft.site_errors or protocol is None:
        raise ProtocolError(
            "the protocol or its sites have problems; nothing was saved: "
            + "; ".join([f"{p.field or 'file'}: {p.message}" for p in draft.problems]
                        + draft.site_errors)
        )  # fmt: skip
    with store.transaction(user=user) as tx:
        study = add_study(tx, protocol, sites=draft.sites)
        return study.code


def members_of(store: Store) -> list[Member]:
    """Who holds a role in the store's study, by user name."""
    with store.reader() as session:
        study = get_study(session)
        return [
            Member(u.username, r.role, tuple(r.sites)) for u, r in roles_in_study(session, study)
        ]


def study_sites(store: Store) -> list[str]:
    with store.reader() as session:
        return list_sites(session, get_study(session))


def give_role(
    store: Store, *, user: str, username: str, role: str, sites: list[str], reason: str
) -> None:
    """Give ``username`` a role in the store's study (replacing the one they held)."""
    with store.transaction(user=user, reason=reason) as tx:
        account = tx.session.scalar(
            select(User).where(User.username == username, User.deleted_at.is_(None))
        )
        if account is None or not account.active:
            raise DataValidationError(
                f"username: there is no active account {username}", field="username"
            )
        grant_role(tx, account, get_study(tx.session), role=role, sites=sites)


def take_role(store: Store, *, user: str, username: str, reason: str) -> None:
    """``username`` no longer holds a role in the store's study."""
    with store.transaction(user=user, reason=reason) as tx:
        account = tx.session.scalar(select(User).where(User.username == username))
        if account is None:
            raise RecordNotFoundError(f"there is no account {username}")
        revoke_role(tx, account, get_study(tx.session))
