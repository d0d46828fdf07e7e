"""CSRF tokens and the Origin check of unsafe requests."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

__all__ = ["csrf_token", "csrf_valid", "same_origin"]


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use (synchroniser-token pattern)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_valid(session: dict[str, Any], sent: str | None) -> bool:
    expected = session.get("csrf")
    return isinstance(expected, str) and sent is not None and hmac.compare_digest(expected, sent)


def same_origin(request: Request) -> bool:
    """An unsafe request from a browser must come from this site (the Origin check).

    Browsers send Origin on every POST; a request without it (a script, an old client)
    is left to the CSRF token, which it cannot have without a page of this site.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc == request.headers.get("host", "")
