"""Template rendering with what every page needs (user, CSRF token, demo notice)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from pustula.checks.vocabulary import field_label, label, labels
from pustula.scoring import PPPASI
from pustula.scoring.pppasi import REGIONS
from pustula.store.records.patient import PATIENT_INSTRUMENTS
from pustula.web.actions import BY_NAME
from pustula.web.bodymap import body_map
from pustula.web.monitor_marks import marks, verify_all
from pustula.web.security import csrf_token

__all__ = ["form_status", "render"]

ENV = Environment(
    loader=PackageLoader("pustula.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship in the package; skip a stat() per render
    extensions=["jinja2.ext.do"],
)


# one table of labels for every code and field a page shows (pustula.checks.vocabulary)
def offered(action: str, status: str) -> bool:
    """Whether a subject in ``status`` is offered the casebook action (its own rule)."""
    return status in BY_NAME[action].states


ENV.globals.update(label=label, labels=labels, label_of=field_label, offered=offered,
                   patient_instruments=PATIENT_INSTRUMENTS, marks=marks,
                   verify_all=verify_all)  # fmt: skip

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def whole_dates(text: str) -> Markup:
    """``text`` with each ISO date kept on one line (a browser breaks lines after a hyphen)."""
    return Markup(_ISO_DATE.sub(lambda m: f'<span class="date">{m.group()}</span>',
                                str(escape(text))))  # fmt: skip


ENV.filters["whole_dates"] = whole_dates


def utc(moment: str | datetime | None) -> str:
    """A stored time as people read it: to the minute, in UTC, without the ISO ``T``,
    seconds' fractions or ``+00:00`` (the audit trail keeps the exact value).

    >>> utc("2026-12-05T09:12:44.123456+00:00")
    '2026-12-05 09:12 UTC'
    >>> utc("2026-12-05T10:12:44+01:00")
    '2026-12-05 09:12 UTC'
    >>> utc(None)
    ''
    """
    if not moment:
        return ""
    when = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return f"{when:%Y-%m-%d %H:%M} UTC"


ENV.filters["utc"] = utc


BODY_MAPS = {r: body_map(r) for r in REGIONS}
#: What the browser's live PPPASI scorer reads, so that no weight or band is copied into
#: JavaScript (a data block: CSP does not run it).
PPPASI_METADATA = Markup(json.dumps(PPPASI.metadata()).replace("<", "\\u003c"))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    if "_locked" in (context.get("errors") or {}):
        status_code = 423  # a form refused by a lock, shown again with what was typed
    principal = getattr(request.state, "principal", None)
    # a client signed in by API token has no session, and so no forms to protect
    by_token = getattr(request.state, "token_auth", False)
    study = getattr(request.state, "study", None)
    html = ENV.get_template(template).render(
        request=request,
        user=principal,
        csrf="" if by_token else csrf_token(request.session, getattr(study, "code", None)),
        open_study=study,
        synthetic=study.synthetic if study is not None else request.app.state.synthetic,
        trial_study=study is not None and study.protocol.randomized,
        bodymaps=BODY_MAPS,
        pppasi_metadata=PPPASI_METADATA,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def form_status(timeline: Any, errors: Mapping[str, str], status: int) -> int:
    """A form's status code: 423 for a locked record, whether the form is opened or sent
    (the page says so and keeps what was typed); ``status`` otherwise."""
    return 423 if "_locked" in errors or (timeline.lock and not errors) else status
