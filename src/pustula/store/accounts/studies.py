"""Roles per study: who may do what in which study, and at which of its sites.

A user is either a **server administrator** (``app_user.role`` ``admin``), who creates
studies and administers every one of them, or a **member** who sees only the studies in
which they hold a role (:class:`~pustula.store.db.models.StudyRole`), and in each only the
sites that role names (decision 0019).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.store.db.hooks import UPGRADE_STEPS
from pustula.store.db.models import Site, Study, StudyRole, User
from pustula.store.db.uow import Store, Transaction

__all__ = [
    "MEMBER",
    "SERVER_ADMIN",
    "StudyAccess",
    "grant_role",
    "revoke_role",
    "roles_in_study",
    "studies_of",
    "study_in_scope",
]

#: ``app_user.role`` of a server administrator, and of everyone else.
SERVER_ADMIN = "admin"
MEMBER = "member"
#: The roles a user can hold in a study (pustula.web.access gives their permissions).
STUDY_ROLES = ("admin", "investigator", "data_entry", "monitor", "statistician",
               "unblinded_statistician", "dmc")  # fmt: skip


@dataclass(frozen=True)
class StudyAccess:
    """A study a user may open, with their role and sites in it."""

    code: str
    title: str
    role: str
    sites: tuple[str, ...]
    synthetic: bool


def study_in_scope(session: Session) -> Study:
    """The study the session is scoped to, else the only live study.

    Raises
    ------
    RecordNotFoundError
        No study, or several and none named.
    """
    code = session.info.get("study")
    query = select(Study).where(Study.deleted_at.is_(None))
    if code is not None:
        study = session.scalar(query.where(Study.code == code))
        if study is None:
            raise RecordNotFoundError(f"study {code} does not exist")
        return study
    studies = list(session.scalars(query.limit(2)))
    if len(studies) != 1:
        raise RecordNotFoundError(
            "no study in the database yet: create it first (pustula study add)"
            if not studies else "several studies: name one with --study"
        )  # fmt: skip
    return studies[0]


def _check_role(role: str, sites: Sequence[str], study: Study, session: Session) -> list[str]:
    if role not in STUDY_ROLES:
        raise DataValidationError(
            f"role: must be one of {', '.join(STUDY_ROLES)}; got {role}", field="role"
        )
    chosen = [s.strip() for s in sites if s.strip()]
    if not chosen:
        raise DataValidationError("sites: give at least one site code, or * for all", field="sites")
    if "*" in chosen:
        return ["*"]
    known = set(session.scalars(
        select(Site.code).where(Site.study_id == study.id, Site.deleted_at.is_(None))
    ))  # fmt: skip
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise DataValidationError(
            f"sites: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not a site of "
            f"study {study.code}",
            field="sites",
        )
    return sorted(set(chosen))


def grant_role(
    tx: Transaction, user: User, study: Study, *, role: str, sites: Sequence[str]
) -> StudyRole:
    """Give ``user`` ``role`` in ``study`` at ``sites`` (replacing the role they held there)."""
    chosen = _check_role(role, sites, study, tx.session)
    if user.role == SERVER_ADMIN:
        raise DataValidationError(
            f"{user.username} is a server administrator and already administers every study",
            field="username",
        )
    held = tx.session.scalar(
        select(StudyRole).where(StudyRole.user_id == user.id, StudyRole.study_id == study.id)
    )
    if held is None:
        held = StudyRole(user_id=user.id, study_id=study.id, role=role, sites=chosen)
        tx.session.add(held)
    else:
        held.role, held.sites, held.deleted_at = role, chosen, None
    tx.session.flush()
    return held


def revoke_role(tx: Transaction, user: User, study: Study) -> None:
    """``user`` no longer has any role in ``study`` (the grant stays in the audit trail)."""
    held = tx.session.scalar(
        select(StudyRole).where(
            StudyRole.user_id == user.id, StudyRole.study_id == study.id,
            StudyRole.deleted_at.is_(None),
        )
    )  # fmt: skip
    if held is None:
        raise RecordNotFoundError(f"{user.username} holds no role in study {study.code}")
    held.deleted_at = tx.session.info["at"]
    tx.session.flush()


def studies_of(session: Session, user_id: int) -> list[StudyAccess]:
    """The live studies the user may open, oldest first, with their role and sites."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.deleted_at is not None:
        return []
    live = Study.deleted_at.is_(None)
    if user.role == SERVER_ADMIN:
        studies = session.scalars(select(Study).where(live).order_by(Study.id))
        return [StudyAccess(s.code, s.title, SERVER_ADMIN, ("*",), s.synthetic) for s in studies]
    rows = session.execute(
        select(Study, StudyRole)
        .join(StudyRole, StudyRole.study_id == Study.id)
        .where(live, StudyRole.user_id == user.id, StudyRole.deleted_at.is_(None))
        .order_by(Study.id)
    )
    return [StudyAccess(s.code, s.title, r.role, tuple(r.sites), s.synthetic) for s, r in rows]


def roles_in_study(session: Session, study: Study) -> list[tuple[User, StudyRole]]:
    """Who holds a role in ``study``, by user name."""
    rows = session.execute(
        select(User, StudyRole)
        .join(StudyRole, StudyRole.user_id == User.id)
        .where(StudyRole.study_id == study.id, StudyRole.deleted_at.is_(None),
               User.deleted_at.is_(None))
        .order_by(User.username)
    )  # fmt: skip
    return [(u, r) for u, r in rows]


def _roles_per_study(store: Store) -> None:
    """Give users of a server from before roles per study their role in every study.

    Before, a user held one role and one list of sites for the whole server. Each such user
    now holds that role in every existing study; an administrator of every site stays a
    server administrator. Runs after each upgrade and does nothing once done.
    """
    with store.reader() as session:
        accounts = session.execute(
            select(User.role, User.sites).where(User.deleted_at.is_(None))
        ).all()
    if not any(_legacy(role, sites) for role, sites in accounts):
        return
    reason = "upgrade: roles are now held per study; each user keeps their role in every study"
    with store.transaction(user="pustula-upgrade", reason=reason) as tx:
        users = tx.session.scalars(select(User).where(User.deleted_at.is_(None)))
        studies = list(tx.session.scalars(select(Study).where(Study.deleted_at.is_(None))))
        for user in list(users):
            if not _legacy(user.role, user.sites):
                continue
            for study in studies:
                tx.session.add(StudyRole(user_id=user.id, study_id=study.id, role=user.role,
                                         sites=list(user.sites)))  # fmt: skip
            user.role, user.sites = MEMBER, []
        tx.session.flush()


def _legacy(role: str, sites: list[str]) -> bool:
    """An account from before roles per study (a server administrator sees every site)."""
    return role != MEMBER and not (role == SERVER_ADMIN and list(sites) == ["*"])


UPGRADE_STEPS.append(_roles_per_study)
