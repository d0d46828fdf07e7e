"""Commands that manage the database as a whole: init, demo, export, import, backup, audit."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

import typer

from pustula.cli._common import cli_user, echo_json, handles_errors, open_store, progress_bar
from pustula.errors import AuditError, ConfigurationError, DataValidationError

__all__ = ["register"]

audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
keys_app = typer.Typer(help="The keys that sign bundles and backups (Ed25519).",
                       no_args_is_help=True)  # fmt: skip


@handles_errors
def init(ctx: typer.Context) -> None:
    """Create the database, or migrate it to the newest schema."""
    store = open_store(ctx, migrate=True)
    typer.echo(f"database ready: {store.url}")


@handles_errors
def demo(
    ctx: typer.Context,
    trial: Annotated[
        bool,
        typer.Option(
            "--trial",
            help="The SYNTHETIC randomized, double-blind demo trial "
            "(90 subjects, tofacitinib versus placebo 2:1) instead.",
        ),
    ] = False,
) -> None:
    """Create the demo study: six SYNTHETIC subjects matching the published aggregates."""
    from pustula.demo import DEMO_NOTICE, SUBJECTS, create_demo_study
    from pustula.demo_trial import TRIAL_NOTICE, TRIAL_SUBJECTS, create_trial_study

    store = open_store(ctx, migrate=True)
    if trial:
        with progress_bar("creating the demo trial", TRIAL_SUBJECTS) as step:
            study = create_trial_study(store, user=cli_user(ctx, default="demo"), progress=step)
        typer.echo(f"demo trial {study.code} created in {store.url}")
        typer.echo(TRIAL_NOTICE)
        return
    with progress_bar("creating the demo study", 1 + len(SUBJECTS)) as step:
        study = create_demo_study(store, user=cli_user(ctx, default="demo"), progress=step)
    typer.echo(f"demo study {study.code} created in {store.url}")
    typer.echo(DEMO_NOTICE)


TrustOpt = Annotated[
    list[Path] | None,
    typer.Option("--trust-key", help="A PEM file of public keys whose signatures to trust "
                 "(the writer's `pustula keys public`); may be given more than once."),
]  # fmt: skip
UnverifiedOpt = Annotated[
    bool,
    typer.Option("--accept-unverified", help="Import even though no trusted key signed it "
                 "(recorded as unverified in the audit trail)."),
]  # fmt: skip


def _export_tidy(ctx: typer.Context, directory: Path, fmt: str) -> None:
    from pustula.analysis import build_analysis
    from pustula.interop import FORMATS, build_tidy, write_tidy
    from pustula.store.transfer.extract import read_items, read_study

    if fmt not in FORMATS:
        raise DataValidationError(
            f"--format must be one of {', '.join(FORMATS)}; got `{fmt}`", field="format"
        )
    store = open_store(ctx)
    export = build_tidy(build_analysis(read_study(store)), read_items(store))
    written = write_tidy(export, directory, fmt)
    typer.echo(f"wrote {len(export.data)} rows x {len(export.data.columns)} variables: "
               + ", ".join(p.name for p in written))  # fmt: skip
    if export.synthetic:
        typer.echo("note: SYNTHETIC demo data, not patient data")


@handles_errors
def export(
    ctx: typer.Context,
    directory: Path,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv or parquet; with --tidy also xlsx, xpt, dta, sav.",
            case_sensitive=False,
        ),
    ] = "csv",
    tidy: Annotated[
        bool, typer.Option("--tidy", help="An analysis-ready table with a codebook.")
    ] = False,
) -> None:
    """Write every table to DIRECTORY as CSV or Parquet, with a manifest signed with this
    installation's key.

    With --tidy: one row per subject and visit with item values, scores, baseline and
    derived variables, and a codebook (variable and value labels in XPT, .dta and .sav).
    """
    kind = fmt.lower()
    if tidy:
        _export_tidy(ctx, directory, kind)
        return
    if kind not in ("csv", "parquet"):
        raise DataValidationError(f"--format must be csv or parquet; got `{fmt}`", field="format")
    chosen: Literal["csv", "parquet"] = "csv" if kind == "csv" else "parquet"
    from pustula.store import export_bundle
    from pustula.store.transfer.bundle import bundle_tables

    with progress_bar("exporting", len(bundle_tables())) as step:
        summary = export_bundle(open_store(ctx), directory, fmt=chosen, progress=step)
    typer.echo(
        f"exported {sum(summary.rows.values())} rows in {len(summary.rows)} tables to {directory}"
    )
    if summary.synthetic:
        typer.echo("note: the bundle holds SYNTHETIC demo data, not patient data")


@handles_errors
def import_(
    ctx: typer.Context,
    directory: Path,
    reason: Annotated[str, typer.Option(help="Why the data are imported (audited).")] = "import",
    trust_key: TrustOpt = None,
    accept_unverified: UnverifiedOpt = False,
) -> None:
    """Import a bundle into an empty database, all or nothing, after checking it whole."""
    from pustula.store import import_bundle
    from pustula.store.transfer.bundle import bundle_tables

    with progress_bar("checking the bundle", len(bundle_tables()) + 2) as step:
        rows = import_bundle(
            open_store(ctx, migrate=True), directory, user=cli_user(ctx), reason=reason,
            trust=trust_key or [], accept_unverified=accept_unverified, progress=step,
        )  # fmt: skip
    typer.echo(f"imported {sum(rows.values())} rows from {directory}")


@handles_errors
def restore_(
    ctx: typer.Context,
    backup_path: Annotated[Path, typer.Argument(metavar="BACKUP", help="A backup file or bundle.")],
    reason: Annotated[str, typer.Option(help="Why the backup is restored (audited).")],
    trust_key: TrustOpt = None,
    accept_unverified: UnverifiedOpt = False,
) -> None:
    """Restore a backup into an empty database after verifying it (chain and tables)."""
    from pustula.store import restore

    rows = restore(
        open_store(ctx, migrate=True), backup_path, user=cli_user(ctx), reason=reason,
        trust=trust_key or [], accept_unverified=accept_unverified,
    )  # fmt: skip
    typer.echo(f"restored {sum(rows.values())} rows from {backup_path}; run `pustula audit verify`")


@handles_errors
def keys_public(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("-o", help="Write it to this file.")] = None,
) -> None:
    """Print this installation's public signing key (PEM), for those who import from it."""
    pem = open_store(ctx).signing_key.public_pem()
    if output is None:
        typer.echo(pem, nl=False)
    else:
        output.write_text(pem, encoding="ascii")
        typer.echo(f"public key written to {output}")


@handles_errors
def keys_new(
    output: Annotated[Path, typer.Option("-o", help="The new private key file (PEM).")],
) -> None:
    """Make a new private signing key (for PUSTULA_SIGNING_KEY_FILE), readable by you only."""
    from pustula.store.keys.signing import new_private_pem

    if output.exists():
        raise ConfigurationError(f"{output} already exists; choose a new file")
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(new_private_pem())
    typer.echo(f"private key written to {output}; set PUSTULA_SIGNING_KEY_FILE={output}")


@handles_errors
def backup_(
    ctx: typer.Context,
    target: Annotated[Path | None, typer.Argument(help="The backup file to write.")] = None,
    into: Annotated[
        Path | None,
        typer.Option(help="A folder for scheduled backups, each named by its time (UTC)."),
    ] = None,
    keep: Annotated[int, typer.Option(help="With --into: how many backups to keep.")] = 14,
) -> None:
    """Back up the database while it is in use (SQLite backup API, or pg_dump), with the
    photographs' files beside it; with --into, as a scheduled backup with retention."""
    from pustula.store import backup
    from pustula.store.transfer.backup import backup_into

    if (target is None) == (into is None):
        raise ConfigurationError("give a backup file, or --into a folder (not both)")
    if into is not None:
        out, removed = backup_into(open_store(ctx), into, keep=keep)
        typer.echo(f"backup written to {out}; {len(removed)} older backup(s) removed, "
                   f"the newest {keep} kept")  # fmt: skip
        return
    assert target is not None
    out = backup(open_store(ctx), target)
    typer.echo(f"backup written to {out}, its signature to {out}.sig (no key is written "
               "beside it: restore it here, or move a signed bundle)")  # fmt: skip


@handles_errors
def restore_drill_(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="The folder of scheduled backups.")],
    scratch_url: Annotated[
        str | None,
        typer.Option(help="For a pg_dump backup: an empty PostgreSQL database to restore into."),
    ] = None,
) -> None:
    """Restore the newest scheduled backup into a scratch database and verify it; exit
    status 1 if it does not verify."""
    from pustula.store.transfer.backup import restore_drill

    drill = restore_drill(open_store(ctx), folder, scratch_url=scratch_url)
    typer.echo(f"{drill.backup.name}: {drill.subjects} subjects, {drill.photographs} "
               f"photographs, {drill.audit_entries} audit entries, restored and checked in "
               f"{drill.seconds:.1f} s")  # fmt: skip
    if not drill.ok:
        for problem in drill.problems:
            typer.echo(f"problem: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo("the backup restores and verifies")


@audit_app.command("verify")
@handles_errors
def audit_verify(
    ctx: typer.Context,
    anchor: Annotated[
        Path | None, typer.Option(help="An anchor file from `pustula audit anchor`.")
    ] = None,
    prometheus: Annotated[
        Path | None,
        typer.Option(
            help="Also write the verdict for Prometheus (node_exporter's textfile "
            "collector) to this .prom file."
        ),
    ] = None,
) -> None:
    """Verify the audit trail and every table against it; exit 1 on any mismatch.

    The hash chain is recomputed with the audit key, each record's last audited state is
    replayed and compared with the table, and with --anchor the anchored head must still
    be in the chain.
    """
    from pustula.store.audit.integrity import verify_store

    report = verify_store(open_store(ctx), anchor=anchor)
    if prometheus is not None:
        _write_verdict(prometheus, ok=report.ok, entries=report.entries,
                       problems=len(report.problems))  # fmt: skip
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"  {problem}", err=True)
        raise AuditError(
            f"the audit trail does not verify: {len(report.problems)} problem(s), the first: "
            f"{report.problem}"
        )
    tail = " and the anchor" if anchor else ""
    typer.echo(
        f"audit trail verified: {report.entries} entries, every table matches it{tail}; "
        f"last hash {report.last_hash[:16]}"
    )


def _write_verdict(path: Path, *, ok: bool, entries: int, problems: int) -> None:
    """The verdict in Prometheus' text format, written whole (a scraper never reads half)."""
    import time

    text = (
        "# HELP pustula_audit_verify_ok 1 when the last `pustula audit verify` passed.\n"
        "# TYPE pustula_audit_verify_ok gauge\n"
        f"pustula_audit_verify_ok {int(ok)}\n"
        "# HELP pustula_audit_verify_problems Problems the last verification found.\n"
        "# TYPE pustula_audit_verify_problems gauge\n"
        f"pustula_audit_verify_problems {problems}\n"
        "# HELP pustula_audit_entries Entries in the audit trail when last verified.\n"
        "# TYPE pustula_audit_entries gauge\n"
        f"pustula_audit_entries {entries}\n"
        "# HELP pustula_audit_verify_timestamp_seconds When the last verification ran.\n"
        "# TYPE pustula_audit_verify_timestamp_seconds gauge\n"
        f"pustula_audit_verify_timestamp_seconds {time.time():.0f}\n"
    )
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="ascii")
    partial.replace(path)


@audit_app.command("anchor")
@handles_errors
def audit_anchor(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the anchor.")],
) -> None:
    """Write the audit chain's head to a file; keep it away from the database."""
    from pustula.store.audit.integrity import write_anchor

    anchor = write_anchor(open_store(ctx), output)
    typer.echo(f"anchor written to {output}: entry {anchor['last_id']}, {anchor['last_hash'][:16]}")


@audit_app.command("log")
@handles_errors
def audit_log(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option(help="Only this table.")] = None,
    record: Annotated[int | None, typer.Option(help="Only this record id.")] = None,
) -> None:
    """Show who changed what, when, from what to what, and why."""
    from pustula.store import audit_history

    with open_store(ctx).snapshot_connection() as connection:
        echo_json(audit_history(connection, table=table, record=record))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("demo")(demo)
    app.command("export")(export)
    app.command("import")(import_)
    app.command("backup")(backup_)
    app.command("restore")(restore_)
    app.command("restore-drill")(restore_drill_)
    app.add_typer(audit_app, name="audit")
    keys_app.command("public")(keys_public)
    keys_app.command("new")(keys_new)
    app.add_typer(keys_app, name="keys")
