"""Sign-in and sign-out, sessions kept in the database (:mod:`pustula.store.accounts.sessions`).

Sign-in attempts are throttled per (user name, client) and per client, in the database,
so every worker counts the same attempts and a stranger cannot lock a user out.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.checks.vocabulary import label
from pustula.store.accounts.sessions import Throttle, end_session, start_session
from pustula.store.services.clinical import check_password
from pustula.store.services.studies import first_study_of
from pustula.web.deps import get_store
from pustula.web.render import render
from pustula.web.security import csrf_valid, same_origin

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


def demo_accounts(request: Request) -> dict[str, Any] | None:
    """The demo's password and accounts as (user name, role, sites), on a server started in
    demo mode only (``pustula serve --demo``): a newcomer signs in without the terminal."""
    if not getattr(request.app.state, "demo", False):
        return None
    from pustula.demo import DEMO_PASSWORD, DEMO_USERS
    from pustula.demo_trial import TRIAL_USERS

    trial = TRIAL_USERS if getattr(request.app.state, "randomized", False) else ()
    accounts = [
        (name, label("role", role), "all" if sites == ("*",) else ", ".join(sites))
        for name, role, sites in (*DEMO_USERS, *trial)
    ]
    return {"password": DEMO_PASSWORD, "accounts": accounts}


@router.get("/login", name="login_form", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None, username="",
                  demo=demo_accounts(request))  # fmt: skip


@router.post("/login", name="login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    throttle: Throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    store = get_store(request)

    def page(error: str, status: int) -> Response:
        return render(request, "login.html", status_code=status, next=target, error=error,
                      username=username, demo=demo_accounts(request))  # fmt: skip

    if not same_origin(request) or not csrf_valid(request.session, str(form.get("csrf", ""))):
        return page("The form expired; please sign in again.", 403)
    if len(username) > 80 or len(password) > 1000:
        return page("Unknown user name or wrong password.", 401)
    attempt = await run_in_threadpool(throttle.reserve, store, username, client)
    if attempt.wait:
        return page(f"Too many failed attempts. Try again in {int(attempt.wait) + 1} seconds.", 429)
    user_id = await run_in_threadpool(check_password, store, username, password)
    if user_id is None:
        return page("Unknown user name or wrong password.", 401)
    await run_in_threadpool(throttle.succeeded, store, attempt)
    session_id = await run_in_threadpool(start_session, store, user_id)
    request.session.clear()  # a new session on sign-in: no fixation
    request.session["sid"] = session_id
    first = await run_in_threadpool(first_study_of, store, user_id)
    if first is not None:
        request.session["study"] = first
    return RedirectResponse(target, status_code=303)


@router.post("/logout", name="logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    sent = str(form.get("csrf", ""))
    study = request.session.get("study")
    if same_origin(request) and (
        csrf_valid(request.session, sent) or csrf_valid(request.session, sent, study)
    ):
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            await run_in_threadpool(end_session, get_store(request), session_id)
        request.session.clear()
    return RedirectResponse("/login", status_code=303)
