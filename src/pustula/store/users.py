"""User accounts: argon2 password hashes, roles, site access and API tokens.

A token is shown once when created; only its SHA-256 is stored, so a stolen database does
not reveal working tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.store.models import User
from pustula.store.uow import Transaction

__all__ = [
    "ALL_SITES",
    "ROLES",
    "add_user",
    "api_token_hash",
    "authenticate",
    "issue_api_token",
    "user_by_token",
]

ROLES = ("admin", "investigator", "data_entry", "monitor", "statistician")
ALL_SITES = "*"
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


def add_user(
    tx: Transaction, *, username: str, password: str, role: str, sites: Sequence[str]
) -> User:
    """Create a user. ``sites`` lists site codes, or ``["*"]`` for every site."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{2,80}", username):
        raise DataValidationError(
            "username: 2-80 letters, digits, '.', '_' or '-'", field="username"
        )
    if role not in ROLES:
        raise DataValidationError(
            f"role: must be one of {', '.join(ROLES)}; got `{role}`", field="role"
        )
    if len(password) < MIN_PASSWORD:
        raise DataValidationError(f"password: at least {MIN_PASSWORD} characters", field="password")
    if not sites:
        raise DataValidationError("sites: give at least one site code, or * for all", field="sites")
    if tx.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DataValidationError(f"username: {username} already exists", field="username")
    user = User(
        username=username, role=role, sites=list(sites), password_hash=_HASHER.hash(password)
    )
    tx.session.add(user)
    tx.session.flush()
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


def issue_api_token(tx: Transaction, username: str) -> str:
    """Create (or replace) the user's API token and return it; it is not stored in clear."""
    user = tx.session.scalar(
        select(User).where(User.username == username, User.deleted_at.is_(None))
    )
    if user is None:
        raise RecordNotFoundError(f"user {username} does not exist")
    token = "pst_" + secrets.token_urlsafe(32)
    user.token_hash = _token_hash(token)
    tx.session.flush()
    return token


def user_by_token(session: Session, token: str) -> User | None:
    token_hash = api_token_hash(token)
    if token_hash is None:
        return None
    user = session.scalar(select(User).where(User.token_hash == token_hash))
    return user if user is not None and user.active and user.deleted_at is None else None


def api_token_hash(token: str) -> str | None:
    """What the database holds for an API token; None for text that is not one of ours."""
    return _token_hash(token) if token.startswith("pst_") else None
