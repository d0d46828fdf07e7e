"""CSRF tokens and the Origin check of unsafe requests."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request

__all__ = ["csrf_token", "csrf_valid", "same_origin"]


def csrf_token(session: dict[str, Any], study: str | None = None) -> str:
    """The session's CSRF token (synchroniser-token pattern), bound to ``study``.

    A page of a study carries a token derived from the session's secret and the study's
    code: a form opened in one study and sent after the user switched to another (in
    another tab) is refused instead of saved into the wrong study.
    """
    secret = session.get("csrf")
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(32)
        session["csrf"] = secret
    if study is None:
        return secret
    bound = hmac.new(secret.encode(), study.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(bound).decode().rstrip("=")


def csrf_valid(session: dict[str, Any], sent: str | None, study: str | None = None) -> bool:
    if not isinstance(session.get("csrf"), str) or sent is None:
        return False
    return hmac.compare_digest(csrf_token(session, study), sent)


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
