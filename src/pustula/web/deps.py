"""FastAPI dependencies: the store, the signed-in principal, and the one access check."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from pustula.store import Store, Subject
from pustula.store.models import User
from pustula.store.queries import subject_with_site
from pustula.store.users import user_by_token
from pustula.web.access import ROUTE_PERMISSIONS, Principal
from pustula.web.security import csrf_valid

__all__ = ["AuthRequired", "authorize", "get_store", "principal_of", "scoped_subject"]

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuthRequired(Exception):  # noqa: N818 (a signal, handled as a redirect or 401)
    """No valid session or token: pages redirect to the login form, the API answers 401."""


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _principal_and_subject(
    store: Store, user_id: int | None, token: str | None, code: str | None
) -> tuple[Principal | None, tuple[Subject, str] | None]:
    """The signed-in user, and the subject in the path with its site, in one read."""
    with store.reader() as session:
        user = user_by_token(session, token) if token else None
        if token is None and user_id is not None:
            user = session.get(User, user_id)
        if user is None or not user.active or user.deleted_at is not None:
            return None, None
        principal = Principal(user.id, user.username, user.role, tuple(user.sites))
        if code is None:
            return principal, None
        return principal, subject_with_site(session, code)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authorize(request: Request) -> Principal:
    """Authenticate, check the route's permission, CSRF on unsafe requests, and site scope.

    A subject in the path that the user's sites do not include answers 404, so that other
    sites' subject codes cannot be probed.
    """
    store = get_store(request)
    token = _bearer(request)
    user_id = None if token else request.session.get("user_id")
    code = request.path_params.get("code")
    principal, subject = await run_in_threadpool(
        _principal_and_subject, store, user_id, token, code
    )
    if principal is None:
        raise AuthRequired()
    route = request.scope.get("route")
    name = getattr(route, "name", None)
    needed = ROUTE_PERMISSIONS.get(name or "")
    if needed is None or not principal.can(needed):
        raise HTTPException(status_code=403, detail="Your role does not allow this.")
    if request.method in UNSAFE and token is None:
        sent = request.headers.get("x-csrf-token")
        if sent is None and "form" in request.headers.get("content-type", ""):
            form = await request.form()
            value = form.get("csrf")
            sent = value if isinstance(value, str) else None
        if not csrf_valid(request.session, sent):
            raise HTTPException(
                status_code=403, detail="The form expired; reload the page and try again."
            )
    if code is not None:
        if subject is None or not principal.sees_site(subject[1]):
            raise HTTPException(status_code=404, detail=f"No subject {code}.")
        request.state.subject, request.state.site = subject
    request.state.principal = principal
    return principal


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def scoped_subject(request: Request) -> Subject:
    subject: Subject = request.state.subject
    return subject
