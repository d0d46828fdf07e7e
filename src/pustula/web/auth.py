"""Sign-in and sign-out. Login attempts are rate-limited per user name and per client."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pustula.store import Store
from pustula.store.users import authenticate
from pustula.web.deps import get_store
from pustula.web.render import render
from pustula.web.security import LoginLimiter, csrf_valid

router = APIRouter(include_in_schema=False)


def _login(store: Store, username: str, password: str) -> int | None:
    with store.reader() as session:
        user = authenticate(session, username, password)
        return None if user is None else user.id


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.get("/login", name="login_form", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return render(request, "login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", name="login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    limiter: LoginLimiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    keys = (f"user:{username.lower()}", f"client:{client}")

    def page(error: str, status: int) -> Response:
        return render(
            request, "login.html", status_code=status, next=target, error=error, username=username
        )

    if not csrf_valid(request.session, str(form.get("csrf", ""))):
        return page("The form expired; please sign in again.", 403)
    wait = limiter.blocked(*keys)
    if wait:
        return page(f"Too many failed attempts. Try again in {int(wait) + 1} seconds.", 429)
    user_id = await run_in_threadpool(_login, get_store(request), username, password)
    if user_id is None:
        limiter.failed(*keys)
        return page("Unknown user name or wrong password.", 401)
    limiter.succeeded(*keys)
    request.session.clear()  # a new session on sign-in: no fixation
    request.session["user_id"] = user_id
    return RedirectResponse(target, status_code=303)


@router.post("/logout", name="logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    if csrf_valid(request.session, str(form.get("csrf", ""))):
        request.session.clear()
    return RedirectResponse("/login", status_code=303)
