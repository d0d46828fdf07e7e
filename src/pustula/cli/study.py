"""Commands to set up a study and record its data: one unit of work per command."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from pustula.cli._common import StudyOpt, cli_user, echo_json, handles_errors, open_store, read_data
from pustula.errors import DataValidationError

__all__ = ["register"]

SubjectOpt = Annotated[str, typer.Option("--subject", help="Subject code.")]
DataOpt = Annotated[str, typer.Option("--data", help="JSON text, or a JSON/YAML file.")]

protocol_app = typer.Typer(
    help="Protocol files, and the study's versions and amendments.", no_args_is_help=True
)
study_app = typer.Typer(help="Studies.", no_args_is_help=True)
subject_app = typer.Typer(help="Subjects: screening and enrolment.", no_args_is_help=True)
visit_app = typer.Typer(help="Visits and their assessments.", no_args_is_help=True)
ae_app = typer.Typer(help="Adverse events.", no_args_is_help=True)
lab_app = typer.Typer(help="Safety labs.", no_args_is_help=True)
exposure_app = typer.Typer(help="Study drug exposure.", no_args_is_help=True)
conmed_app = typer.Typer(help="Concomitant medications.", no_args_is_help=True)
reminders_app = typer.Typer(help="Patients' diary reminders by e-mail.", no_args_is_help=True)


@protocol_app.command("check")
@handles_errors
def protocol_check(file: Path) -> None:
    """Validate a protocol file and print its summary."""
    from pustula.protocol import load_protocol

    echo_json({"valid": True, **load_protocol(file).summary()})


@protocol_app.command("versions")
@handles_errors
def protocol_versions(ctx: typer.Context) -> None:
    """The versions of the study's protocol: the first, drafts, approved and withdrawn."""
    from dataclasses import asdict

    from pustula.store.services.amendments import protocol_versions as versions

    echo_json([asdict(v) for v in versions(open_store(ctx))])


@protocol_app.command("amend")
@handles_errors
def protocol_amend(
    ctx: typer.Context,
    file: Path,
    summary: Annotated[str, typer.Option(help="What the amendment changes, and why.")],
    effective_on: Annotated[str, typer.Option(help="The day it takes effect, YYYY-MM-DD.")],
) -> None:
    """Keep an amended protocol file as a draft; print what it changes and does."""
    from pustula.errors import ProtocolError
    from pustula.store.services.amendments import upload_amendment

    store = open_store(ctx)
    version, problems = upload_amendment(
        store, cli_user(ctx), text=file.read_text(encoding="utf-8-sig"), summary=summary,
        effective_on=_date(effective_on, "--effective-on"),
    )  # fmt: skip
    if version is None:
        raise ProtocolError("the draft was not kept: " + "; ".join(
            f"{f'line {p.line}, ' if p.line else ''}{p.field or 'file'}: {p.message}"
            for p in problems))  # fmt: skip
    _print_review(store, version)


def _print_review(store: Any, version: str) -> None:
    from dataclasses import asdict

    from pustula.store.services.amendments import review_amendment

    review = review_amendment(store, version)
    echo_json({
        "version": version, "status": review.draft.status, "current": review.current,
        "changes": [c.text for c in review.changes],
        "reflagged_visits": [asdict(r) for r in review.reflags],
        "added_visits": [asdict(n) for n in review.new_visits],
        "eligibility_changes": [asdict(e) for e in review.eligibility],
        "would_consent_again": list(review.would_reconsent),
    })  # fmt: skip


@protocol_app.command("review")
@handles_errors
def protocol_review(ctx: typer.Context, version: str) -> None:
    """What a version changes, and what it does to the data already collected."""
    _print_review(open_store(ctx), version)


@protocol_app.command("approve")
@handles_errors
def protocol_approve(
    ctx: typer.Context,
    version: str,
    reason: Annotated[str, typer.Option(help="Why it is approved (e.g. the ethics approval).")],
    reconsent: Annotated[bool, typer.Option(
        "--reconsent/--no-reconsent", help="Whether subjects still in the study consent again.",
        show_default=False)],
) -> None:  # fmt: skip
    """Approve a draft: signed with your password (PUSTULA_PASSWORD, or asked for)."""
    import os

    from pustula.store.services.amendments import approve_amendment

    user = cli_user(ctx)
    password = os.environ.get("PUSTULA_PASSWORD") or typer.prompt(
        f"Password of {user} (signs the approval)", hide_input=True)  # fmt: skip
    approve_amendment(open_store(ctx), user, version=version, username=user, password=password,
                      reason=reason, reconsent=reconsent)  # fmt: skip
    typer.echo(f"protocol version {version} approved")


@study_app.command("add")
@handles_errors
def study_add(
    ctx: typer.Context,
    protocol: Path,
    site: Annotated[list[str], typer.Option(help="Site as CODE=Name; repeat for more.")],
) -> None:
    """Create a study from a protocol file, with its sites."""
    sites = []
    for item in site:
        code, sep, name = item.partition("=")
        if not sep or not code.strip() or not name.strip():
            raise DataValidationError(
                f"--site must look like CODE=Name; got `{item}`", field="site"
            )
        sites.append((code.strip(), name.strip()))
    from pustula.protocol import load_protocol
    from pustula.store import add_study

    store = open_store(ctx)
    with store.transaction(user=cli_user(ctx)) as tx:
        study = add_study(tx, load_protocol(protocol), sites=sites)
    typer.echo(f"study {study.code} created with {len(sites)} site(s)")


@study_app.command("lock")
@handles_errors
def study_lock(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why the study (or subject) is locked.")],
    subject: Annotated[str | None, typer.Option(help="Lock one subject only.")] = None,
) -> None:
    """Lock the study (or one subject) for analysis; every write is refused until unlocked."""
    from pustula.store.services.monitoring import lock

    row = lock(open_store(ctx), cli_user(ctx), reason=reason, subject=subject)
    what = f"subject {subject}" if subject else "study"
    typer.echo(f"{what} locked; data SHA-256 {row.snapshot_sha256}")


@study_app.command("unlock")
@handles_errors
def study_unlock(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why the lock is lifted.")],
    subject: Annotated[str | None, typer.Option(help="Unlock one subject only.")] = None,
) -> None:
    """Lift a lock of the study (or of one subject), with a reason."""
    from pustula.store.services.monitoring import unlock

    unlock(open_store(ctx), cli_user(ctx), reason=reason, subject=subject)
    typer.echo(f"{f'subject {subject}' if subject else 'study'} unlocked")


@subject_app.command("enrol")
@handles_errors
def subject_enrol(
    ctx: typer.Context,
    code: str,
    site: Annotated[str, typer.Option(help="Site code.")],
    data: DataOpt,
    screened_on: Annotated[str, typer.Option(help="Screening date, YYYY-MM-DD.")],
    study: StudyOpt = None,
) -> None:
    """Screen a subject against the eligibility criteria; enrol if all pass.

    --data holds ``baseline``, ``prior_therapies`` and ``screening_labs``.
    """
    screened = _date(screened_on, "screened-on")
    payload = _mapping(read_data(data))
    unknown = set(payload) - {"baseline", "prior_therapies", "screening_labs"}
    if unknown:
        raise DataValidationError(f"--data: unknown key `{sorted(unknown)[0]}`")
    from pustula.store import enrol_subject, get_study

    store = open_store(ctx)
    with store.transaction(user=cli_user(ctx)) as tx:
        found = get_study(tx.session, study)
        result = enrol_subject(
            tx, found, code=code, site=site, screened_on=screened,
            baseline=payload.get("baseline", {}),
            prior_therapies=payload.get("prior_therapies", []),
            screening_labs=payload.get("screening_labs", {}),
        )  # fmt: skip
        status = result.subject.status
    typer.echo(f"subject {code}: {status.replace('_', ' ')}")
    for criterion in result.eligibility.failures:
        typer.echo(f"  {criterion.reason}")


@visit_app.command("record")
@handles_errors
def visit_record(
    ctx: typer.Context,
    subject: SubjectOpt,
    visit: Annotated[str, typer.Option(help="Visit code from the protocol, e.g. W4.")],
    on: Annotated[str | None, typer.Option("--date", help="Visit date, YYYY-MM-DD.")] = None,
    assessment: Annotated[
        list[str] | None, typer.Option(help="INSTRUMENT=JSON-or-file; repeat for more.")
    ] = None,
    missed: Annotated[bool, typer.Option(help="Record the visit as missed.")] = False,
    reason: Annotated[
        str, typer.Option(help="Why the visit was missed (required with --missed).")
    ] = "",
    study: StudyOpt = None,
) -> None:
    """Record a visit with its assessments, scored on save, in one transaction."""
    visit_date = None if on is None else _date(on, "date")
    assessments: dict[str, Any] = {}
    for item in assessment or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise DataValidationError(f"--assessment must look like pppasi=FILE; got `{item}`")
        assessments[name.strip()] = _mapping(read_data(value))
    from pustula.store import get_study, get_subject, record_visit

    store = open_store(ctx)
    with store.transaction(user=cli_user(ctx)) as tx:
        found = get_study(tx.session, study)
        row = record_visit(
            tx, found, get_subject(tx.session, found, subject), visit_code=visit,
            visit_date=visit_date,
            status="missed" if missed else "done", notes=reason, assessments=assessments,
        )  # fmt: skip
        summary = {"visit": row.visit_code, "study_day": row.study_day, "window": row.window_status}
    echo_json(summary)


def _simple_add(kind: str, adder: str, needs_study: bool = False) -> Any:
    """A command that adds one record with ``pustula.store.<adder>`` (imported when run)."""

    @handles_errors
    def command(
        ctx: typer.Context, subject: SubjectOpt, data: DataOpt, study: StudyOpt = None
    ) -> None:
        import pustula.store
        from pustula.store import get_study, get_subject

        payload = _mapping(read_data(data))
        store = open_store(ctx)
        with store.transaction(user=cli_user(ctx)) as tx:
            found = get_study(tx.session, study)
            who = get_subject(tx.session, found, subject)
            args = (tx, found, who) if needs_study else (tx, who)
            row = getattr(pustula.store, adder)(*args, payload)
            extra = {"alerts": row.alerts, "ctcae_grade": row.ctcae_grade} if kind == "lab" else {}
            if kind == "adverse event":
                extra = {"treatment_emergent": row.treatment_emergent}
            saved = {"saved": kind, "id": row.id, **extra}
        echo_json(saved)  # only once the save has committed

    command.__doc__ = f"Add {'an' if kind[0] in 'ae' else 'a'} {kind} for a subject."
    return command


ae_app.command("add")(_simple_add("adverse event", "add_adverse_event"))
lab_app.command("add")(_simple_add("lab", "add_lab", needs_study=True))
exposure_app.command("add")(_simple_add("exposure", "add_exposure"))
conmed_app.command("add")(_simple_add("concomitant medication", "add_con_med"))


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DataValidationError("--data must be a JSON object / YAML mapping")
    return value


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise DataValidationError(f"--{option} must be a date YYYY-MM-DD; got `{text}`") from exc


@reminders_app.command("send")
@handles_errors
def reminders_send(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(help="Where patients reach the app (default: PUSTULA_PUBLIC_URL)."),
    ] = None,
) -> None:
    """Send today's diary reminders (run once a day, from cron or a systemd timer)."""
    from pustula.errors import ConfigurationError
    from pustula.settings import get_settings
    from pustula.store.services.reminders import send_diary_reminders, smtp_sender

    settings = get_settings()
    url = base_url or settings.public_url
    if not url:
        raise ConfigurationError("reminders carry links: give --base-url or set PUSTULA_PUBLIC_URL")
    done = send_diary_reminders(open_store(ctx), base_url=url, send=smtp_sender(settings))
    typer.echo(f"{done.sent} reminder(s) sent, {done.skipped} not sent (see the log)")


def register(app: typer.Typer) -> None:
    app.add_typer(reminders_app, name="reminders")
    app.add_typer(protocol_app, name="protocol")
    app.add_typer(study_app, name="study")
    app.add_typer(subject_app, name="subject")
    app.add_typer(visit_app, name="visit")
    app.add_typer(ae_app, name="ae")
    app.add_typer(lab_app, name="lab")
    app.add_typer(exposure_app, name="exposure")
    app.add_typer(conmed_app, name="conmed")
