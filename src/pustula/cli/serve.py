"""``pustula serve`` and ``pustula user``: the web app and its accounts."""

from __future__ import annotations

import getpass
import os
import tempfile
from typing import Annotated

import typer

from pustula.cli._common import cli_user, handles_errors, open_store
from pustula.errors import DataValidationError

__all__ = ["register"]

user_app = typer.Typer(help="User accounts of the web app.", no_args_is_help=True)


@handles_errors
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Load the SYNTHETIC demo study and demo accounts first.")
    ] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    trial: Annotated[
        bool,
        typer.Option(
            help="With --demo: the SYNTHETIC randomized, double-blind demo trial "
            "instead of the case series."
        ),
    ] = False,
) -> None:
    """Serve the web app (uvicorn)."""
    import uvicorn

    from pustula.demo import DEMO_NOTICE, DEMO_PASSWORD, create_demo_study, create_demo_users
    from pustula.demo_trial import TRIAL_NOTICE, TRIAL_USERS, create_trial_study
    from pustula.errors import PustulaError
    from pustula.settings import get_settings
    from pustula.store import get_study
    from pustula.web import create_app
    from pustula.web.app import check_secret_key
    from pustula.web.logs import configure_logging

    store = open_store(ctx, migrate=True)
    if trial and not demo:
        raise DataValidationError("--trial goes with --demo: it loads the demo trial")
    if demo:
        loader = cli_user(ctx, default="demo")
        try:
            with store.reader() as session:
                get_study(session)
        except PustulaError:
            (create_trial_study if trial else create_demo_study)(store, user=loader)
        accounts = create_demo_users(store, user=loader, also=TRIAL_USERS if trial else ())
    settings = get_settings()
    if (ctx.obj or {}).get("database"):
        settings = settings.model_copy(update={"database_url": ctx.obj["database"]})
    if workers > 1 and store.engine.dialect.name == "sqlite":
        raise DataValidationError("--workers > 1 needs PostgreSQL; SQLite serves one process")
    if workers > 1 and settings.secret_key is None:
        raise DataValidationError("--workers > 1 needs PUSTULA_SECRET_KEY shared by the workers")
    # every setting is checked (and the app built) before anything says it is running
    app = create_app(settings, store=store, demo=demo) if workers == 1 else None
    if workers > 1:
        check_secret_key(settings.secret_key, demo=demo)
        store.audit_key  # noqa: B018 (a missing audit key fails here, not in a worker)
    typer.echo(f"Pustula is running at http://{host}:{port}/")
    if demo:
        typer.echo(TRIAL_NOTICE if trial else DEMO_NOTICE)
        typer.echo(f"Demo sign-in (password for every account: {DEMO_PASSWORD}):")
        for username, role, sites in accounts:
            typer.echo(f"  {username:15s} {role:23s} sites: {', '.join(sites)}")
    configure_logging(settings.log_format)
    if workers > 1:
        # each worker process builds its own app and engine from the environment
        os.environ["PUSTULA_DATABASE_URL"] = settings.database_url
        os.environ["PUSTULA_DEMO"] = "1" if demo else "0"
        # the workers' metrics, added up at /metrics (prometheus-client's multiprocess mode)
        os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="pustula-metrics-")
        )
        uvicorn.run("pustula.web.app:app_from_env", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", access_log=False,
                    log_config=None)  # fmt: skip
        return
    assert app is not None  # built above for one worker
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False,
                log_config=None)  # fmt: skip


@user_app.command("add")
@handles_errors
def user_add(
    ctx: typer.Context,
    username: str,
    role: Annotated[
        str,
        typer.Option(
            help="admin, investigator, data_entry, monitor, statistician (blinded), "
            "unblinded_statistician or dmc (data monitoring committee)."
        ),
    ],
    site: Annotated[list[str], typer.Option(help="Site code the user may see; repeat; * for all.")],
    study: Annotated[
        str | None,
        typer.Option(
            help="The study the role is in (default: the only study). An admin of "
            "every site with no study is a server administrator."
        ),
    ] = None,
) -> None:
    """Create a user. The password is read from PUSTULA_NEW_PASSWORD or asked for (twice)."""
    from pustula.store import get_study
    from pustula.store.accounts.users import add_user

    password = _new_password()
    store = open_store(ctx)
    with store.transaction(user=cli_user(ctx)) as tx:
        in_study = None if study is None else get_study(tx.session, study)
        account = add_user(tx, username=username, password=password, role=role, sites=site,
                           study=in_study)  # fmt: skip
    where = "server administrator" if account.role == "admin" and in_study is None and (
        site == ["*"]) else f"{role}; sites {', '.join(site)}"  # fmt: skip
    typer.echo(f"user {username} created ({where})")


@user_app.command("grant")
@handles_errors
def user_grant(
    ctx: typer.Context,
    username: str,
    role: Annotated[str, typer.Option(help="The role in the study (as for `user add`).")],
    site: Annotated[list[str], typer.Option(help="Site code the user may see; repeat; * for all.")],
    reason: Annotated[str, typer.Option(help="Why (it goes into the audit trail).")],
    study: Annotated[str | None, typer.Option(help="The study (default: the only one).")] = None,
) -> None:
    """Give a user a role in a study (replacing the one they held there)."""
    from pustula.store.services.studies import give_role

    store = open_store(ctx)
    store = store.for_study(study) if study else store
    give_role(store, user=cli_user(ctx), username=username, role=role, sites=site,
              reason=reason)  # fmt: skip
    typer.echo(f"{username} is now {role} in study {study or store.study or 'the study'}")


@user_app.command("revoke")
@handles_errors
def user_revoke(
    ctx: typer.Context,
    username: str,
    reason: Annotated[str, typer.Option(help="Why (it goes into the audit trail).")],
    study: Annotated[str | None, typer.Option(help="The study (default: the only one).")] = None,
) -> None:
    """Take a user's role in a study away (the grant stays in the audit trail)."""
    from pustula.store.services.studies import take_role

    store = open_store(ctx)
    store = store.for_study(study) if study else store
    take_role(store, user=cli_user(ctx), username=username, reason=reason)
    typer.echo(f"{username} no longer holds a role in study {study or store.study or 'the study'}")


@user_app.command("token")
@handles_errors
def user_token(
    ctx: typer.Context,
    username: str,
    expires: Annotated[float, typer.Option(help="Days until the token stops working.")] = 90,
) -> None:
    """Issue a new API token for a user (replaces the old one); it is shown only once."""
    from pustula.store.accounts.users import issue_api_token

    store = open_store(ctx)
    with store.transaction(user=cli_user(ctx), reason="API token issued") as tx:
        token = issue_api_token(tx, username, expires_days=expires)
    typer.echo(token)


@user_app.command("token-revoke")
@handles_errors
def user_token_revoke(ctx: typer.Context, username: str) -> None:
    """Revoke a user's API token now."""
    from pustula.store.accounts.users import revoke_api_token

    with open_store(ctx).transaction(user=cli_user(ctx), reason="API token revoked") as tx:
        revoke_api_token(tx, username)
    typer.echo(f"the API token of {username} is revoked")


@user_app.command("deactivate")
@handles_errors
def user_deactivate(
    ctx: typer.Context,
    username: str,
    reason: Annotated[str, typer.Option(help="Why (audited).")] = "user deactivated",
) -> None:
    """Deactivate a user: no more sign-in; their sessions and API token end now."""
    from pustula.store.accounts.users import deactivate_user

    with open_store(ctx).transaction(user=cli_user(ctx), reason=reason) as tx:
        deactivate_user(tx, username)
    typer.echo(f"user {username} is deactivated; their sessions and token have ended")


@user_app.command("password")
@handles_errors
def user_password(ctx: typer.Context, username: str) -> None:
    """Set a new password (PUSTULA_NEW_PASSWORD or asked for twice); every session ends."""
    from pustula.store.accounts.users import set_password

    password = _new_password()
    with open_store(ctx).transaction(user=cli_user(ctx), reason="password changed") as tx:
        set_password(tx, username, password)
    typer.echo(f"the password of {username} is changed; their sessions have ended")


def _new_password() -> str:
    password = os.environ.get("PUSTULA_NEW_PASSWORD") or getpass.getpass("Password: ")
    if "PUSTULA_NEW_PASSWORD" not in os.environ and getpass.getpass("Again: ") != password:
        raise DataValidationError("the two passwords differ", field="password")
    return password


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
