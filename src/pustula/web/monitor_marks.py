"""A record's monitoring marks on the subject page: its open queries, whether it is
verified, and the monitor's links to verify it or raise a query.

These were Jinja macros. The subject page calls them once per record (26 times for a
subject of the demo study), and Jinja's cost of calling a macro was about a third of the
page's rendering time (profile in ``benchmarks/README.md``). As functions they give the
same HTML for a fraction of it; the page's templates call them by the same names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import pass_context
from jinja2.filters import do_truncate
from jinja2.runtime import Context
from markupsafe import Markup, escape

__all__ = ["marks", "verify_all"]

#: How much of a query's text the flag shows.
QUERY_TEXT_SHOWN = 70


@pass_context
def marks(context: Context, t: Any, table: str, rec: Any, code: str) -> Markup:
    """The record's open queries, "Verified" or the way to verify it, and "Raise query"."""
    user, csrf = context["user"], context["csrf"]
    out: list[str] = []
    open_queries = t.open_queries(table, rec.id)
    for q in open_queries:
        state = "answered" if q.state == "answered" else "open"
        text = do_truncate(context.environment, q.text, QUERY_TEXT_SHOWN, False, "…")
        out.append(
            f'<a class="query-flag" href="/queries/{q.id}" data-query="{q.id}">Query #{q.id} '
            f'({state})<span class="query-text">: {escape(text)}</span></a>'
        )
    what = escape(f"{table.replace('_', ' ')} {rec.id}")
    if t.verified(table, rec.id, rec.version):
        out.append('<span class="verified">Verified</span>')
    elif user.can("verify") and open_queries:
        out.append('<span class="hint verify-later">Verify once the query is closed</span>')
    elif user.can("verify"):
        out.append(
            f'<form method="post" action="/subjects/{escape(code)}/verify" class="inline">'
            f'<input type="hidden" name="csrf" value="{escape(csrf)}">'
            f'<input type="hidden" name="table" value="{escape(table)}">'
            f'<input type="hidden" name="record" value="{rec.id}">'
            f'<button type="submit" class="link" aria-label="Verify {what} against the source">'
            "Verify</button></form>"
        )
    if user.can("query"):
        out.append(
            f'<a href="/subjects/{escape(code)}/queries/new?table={escape(table)}&amp;'
            f'record={rec.id}" class="raise-query" aria-label="Raise a query on {what}">'
            "Raise query</a>"
        )
    return Markup(" ".join(out))


@pass_context
def verify_all(
    context: Context, t: Any, group: str, what: str, code: str,
    *records: tuple[str, Iterable[Any]],
) -> Markup:  # fmt: skip
    """One action that verifies every record of a visit or of a form, each at its current
    version: offered while one of them is not verified and the record is not locked.
    ``records`` are (table, its records) pairs."""
    user = context["user"]
    if not user.can("verify") or t.lock:
        return Markup("")
    if all(t.verified(table, r.id, r.version) for table, rows in records for r in rows):
        return Markup("")
    return Markup(
        f'<form method="post" action="/subjects/{escape(code)}/verify" class="inline verify-all">'
        f'<input type="hidden" name="csrf" value="{escape(context["csrf"])}">'
        f'<input type="hidden" name="group" value="{escape(group)}">'
        f'<button type="submit" class="link">Verify {escape(what)}</button></form>'
    )
