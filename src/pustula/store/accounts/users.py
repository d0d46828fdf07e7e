"""User accounts: argon2 password hashes, roles, site access and API tokens.

A token is shown once when created; only its SHA-256 is stored, so a stolen database does
not reveal working tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.store.accounts.sessions import end_user_sessions
from pustula.store.accounts.studies import (
    MEMBER,
    SERVER_ADMIN,
    STUDY_ROLES,
    grant_role,
    study_in_scope,
)
from pustula.store.db.models import Study, User
from pustula.store.db.uow import Transaction

__all__ = [
    "ALL_SITES",
    "ROLES",
    "add_user",
    "api_token_hash",
    "authenticate",
    "deactivate_user",
    "issue_api_token",
    "revoke_api_token",
    "set_password",
    "user_by_token",
]

ROLES = STUDY_ROLES
ALL_SITES = "*"
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


def add_user(
    tx: Transaction, *, username: str, password: str, role: str, sites: Sequence[str],
    study: Study | None = None,
) -> User:  # fmt: skip
    """Create a user with ``role`` at ``sites`` (site codes, or ``["*"]``) in ``study``.

    ``study`` None means the study the transaction is scoped to, else the only study. An
    ``admin`` of every site with no study named is a **server administrator**, who creates
    studies and administers every one (decision 0019).
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]{2,80}", username):
        raise DataValidationError(
            "username: 2-80 letters, digits, '.', '_' or '-'", field="username"
        )
    if role not in ROLES:
        raise DataValidationError(
            f"role: must be one of {', '.join(ROLES)}; got {role}", field="role"
        )
    if len(password) < MIN_PASSWORD:
        raise DataValidationError(f"password: at least {MIN_PASSWORD} characters", field="password")
    if not sites:
        raise DataValidationError("sites: give at least one site code, or * for all", field="sites")
    if tx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DataValidationError(f"username: {username} already exists", field="username")
    server_admin = role == SERVER_ADMIN and list(sites) == [ALL_SITES] and study is None
    in_study = None if server_admin else (study or study_in_scope(tx.session))
    user = User(
        username=username, role=SERVER_ADMIN if server_admin else MEMBER,
        sites=[ALL_SITES] if server_admin else [], password_hash=_HASHER.hash(password),
    )  # fmt: skip
    tx.session.add(user)
    tx.session.flush()
    if in_study is not None:
        grant_role(tx, user, in_study, role=role, sites=sites)
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same for any failure)."""
    user = session.scalar(select(User).where(User.username == username, User.deleted_at.is_(None)))
    if user is None or not user.active:
        _HASHER.hash(password)  # spend the same time whether or not the user exists
        return None
    try:
        _HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(tx: Transaction, username: str) -> User:
    user = tx.session.scalar(
        select(User).where(User.username == username, User.deleted_at.is_(None))
    )
    if user is None:
        raise RecordNotFoundError(f"user {username} does not exist")
    return user


#: API tokens expire after this many days unless another lifetime is asked for.
TOKEN_DAYS = 90


def issue_api_token(tx: Transaction, username: str, *, expires_days: float = TOKEN_DAYS) -> str:
    """Create (or replace) the user's API token and return it; it is not stored in clear.

    The token stops working after ``expires_days`` days.
    """
    if not 0 < expires_days <= 3660:
        raise DataValidationError(
            f"expires: a token lives 1 to 3,660 days; got {expires_days:g}", field="expires"
        )
    user = _user(tx, username)
    if not user.active:
        raise DataValidationError(f"user {username} is deactivated", field="username")
    token = "pst_" + secrets.token_urlsafe(32)
    user.token_hash = _token_hash(token)
    user.token_expires = time.time() + expires_days * 86400
    tx.session.flush()
    return token


def revoke_api_token(tx: Transaction, username: str) -> None:
    """The user's API token stops working now."""
    user = _user(tx, username)
    user.token_hash, user.token_expires = None, None
    tx.session.flush()


def deactivate_user(tx: Transaction, username: str) -> None:
    """The user can no longer sign in; their sessions and API token end now."""
    user = _user(tx, username)
    user.active, user.token_hash, user.token_expires = False, None, None
    tx.session.flush()
    end_user_sessions(tx.session.connection(), user.id)


def set_password(tx: Transaction, username: str, password: str) -> None:
    """A new password; every session of the user ends (signed in elsewhere or not)."""
    if len(password) < MIN_PASSWORD:
        raise DataValidationError(f"password: at least {MIN_PASSWORD} characters", field="password")
    user = _user(tx, username)
    user.password_hash = _HASHER.hash(password)
    tx.session.flush()
    end_user_sessions(tx.session.connection(), user.id)


def user_by_token(session: Session, token: str) -> User | None:
    token_hash = api_token_hash(token)
    if token_hash is None:
        return None
    user = session.scalar(select(User).where(User.token_hash == token_hash))
    if user is None or not user.active or user.deleted_at is not None:
        return None
    return None if user.token_expires is not None and user.token_expires <= time.time() else user


def api_token_hash(token: str) -> str | None:
    """What the database holds for an API token; None for text that is not one of ours."""
    return _token_hash(token) if token.startswith("pst_") else None
