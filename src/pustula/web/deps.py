"""FastAPI dependencies: the store, the signed-in principal, and the one access check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from pustula.errors import RecordNotFoundError
from pustula.store import Store, Study, Subject, get_study, get_subject
from pustula.store.models import Site, User
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


def _principal(store: Store, user_id: int | None, token: str | None) -> Principal | None:
    with store.reader() as session:
        user = session.get(User, user_id) if user_id is not None else None
        if token is not None:
            user = user_by_token(session, token)
        if user is None or not user.active or user.deleted_at is not None:
            return None
        return Principal(user.id, user.username, user.role, tuple(user.sites))


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
    principal = await run_in_threadpool(_principal, store, user_id, token)
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
    code = request.path_params.get("code")
    if code is not None:
        request.state.subject = await run_in_threadpool(_visible_subject, store, principal, code)
    request.state.principal = principal
    return principal


def _visible_subject(store: Store, principal: Principal, code: str) -> Subject:
    with store.reader() as session:
        try:
            subject = get_subject(session, get_study(session), code)
        except RecordNotFoundError:
            raise HTTPException(status_code=404, detail=f"No subject {code}.") from None
        site = session.get_one(Site, subject.site_id).code
        if not principal.sees_site(site):
            raise HTTPException(status_code=404, detail=f"No subject {code}.")
        return subject


def principal_of(request: Request) -> Principal:
    principal: Principal = request.state.principal
    return principal


def scoped_subject(request: Request) -> Subject:
    subject: Subject = request.state.subject
    return subject


def current_study(store: Store) -> Study:
    with store.reader() as session:
        return get_study(session)


Authorized = Annotated[Principal, Depends(authorize)]
Context = dict[str, Any]
