"""Data quality rules over the study (REDCap's Data Quality module): define a rule, run it
over every live record of its form at the sites a user sees, and open a query on each
discrepancy found. The rules' language is :mod:`pustula.checks.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Date, Float, Integer, select
from sqlalchemy.orm import Session

from pustula.checks.rules import Rule, parse_rule
from pustula.errors import DataValidationError, RecordNotFoundError
from pustula.store.db.models import (
    AdverseEvent,
    Baseline,
    ConMed,
    DataQuery,
    Exposure,
    Lab,
    QualityRule,
    Record,
    Site,
    Subject,
    Visit,
)
from pustula.store.db.uow import Store
from pustula.store.monitoring.captions import captions
from pustula.store.records.study import get_study
from pustula.store.services.monitoring import open_manual_query

__all__ = [
    "FORMS",
    "Discrepancy",
    "RuleView",
    "define_rule",
    "form_fields",
    "open_queries",
    "quality_rules",
    "run_rule",
]

#: The forms a rule can be written over: table → (model, heading).
FORMS: dict[str, tuple[type[Record], str]] = {
    "adverse_event": (AdverseEvent, "Adverse events"),
    "lab": (Lab, "Labs"),
    "con_med": (ConMed, "Medications"),
    "exposure": (Exposure, "Study drug"),
    "visit": (Visit, "Visits"),
    "baseline": (Baseline, "Baseline"),
}
_NOT_FIELDS = {"id", "version", "created_at", "created_by", "updated_at", "updated_by",
               "deleted_at", "subject_id", "study_id", "visit_id", "exposure_id"}  # fmt: skip


def form_fields(form: str) -> dict[str, str]:
    """A form's fields a rule can read, with their kinds (number, date, bool, text, list).

    >>> form_fields("lab")["value"], form_fields("lab")["sample_date"]
    ('number', 'date')
    """
    if form not in FORMS:
        raise DataValidationError("form: choose one of the listed forms", field="form")
    fields = {}
    for column in FORMS[form][0].__table__.columns:
        if column.name in _NOT_FIELDS:
            continue
        kind = column.type
        fields[column.name] = (
            "bool" if isinstance(kind, Boolean)
            else "date" if isinstance(kind, Date)
            else "number" if isinstance(kind, Float | Integer)
            else "list" if column.name in ("serious_criteria", "triggers", "comorbidities")
            else "text"
        )  # fmt: skip
    return fields


@dataclass(frozen=True)
class RuleView:
    id: int
    name: str
    form: str
    condition: str
    message: str
    created_by: str
    created_at: str


@dataclass(frozen=True)
class Discrepancy:
    """A record the rule flags: whose, which, and the values the rule read."""

    subject: str
    site: str
    table: str
    record_id: int
    caption: str
    values: tuple[tuple[str, Any], ...]
    #: an open query this rule already raised on the record, if any
    query_id: int | None


def _checked(form: str, name: str, condition: str, message: str) -> Rule:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "name: is required"
    elif len(name.strip()) > 120:
        errors["name"] = "name: is at most 120 characters"
    if not message.strip():
        errors["message"] = "message: is required (it becomes the query's text)"
    rule: Rule | None = None
    try:
        rule = parse_rule(condition, form_fields(form))
    except DataValidationError as exc:
        errors.update(exc.errors)
    if errors or rule is None:
        first = next(iter(errors))
        raise DataValidationError(errors[first], field=first, errors=errors)
    return rule


def define_rule(
    store: Store, user: str, *, name: str, form: str, condition: str, message: str
) -> RuleView:
    """Save a rule once its condition parses over the form's fields (every error at once)."""
    _checked(form, name, condition, message)
    with store.transaction(user=user, reason=f"data quality rule: {name.strip()}") as tx:
        row = QualityRule(study_id=get_study(tx.session).id, name=name.strip(), form=form,
                          condition=condition.strip(), message=message.strip())  # fmt: skip
        tx.session.add(row)
        tx.flush()
        return _view(row)


def _view(row: QualityRule) -> RuleView:
    return RuleView(row.id, row.name, row.form, row.condition, row.message, row.created_by,
                    row.created_at)  # fmt: skip


def quality_rules(store: Store) -> list[RuleView]:
    with store.reader() as session:
        study = get_study(session)
        rows = session.scalars(select(QualityRule).where(
            QualityRule.study_id == study.id, QualityRule.deleted_at.is_(None)
        ).order_by(QualityRule.id))  # fmt: skip
        return [_view(r) for r in rows]


def _rule(session: Session, rule_id: int) -> QualityRule:
    row = session.get(QualityRule, rule_id)
    if row is None or row.deleted_at is not None or row.study_id != get_study(session).id:
        raise RecordNotFoundError(f"no data quality rule {rule_id}")
    return row


def _tag(rule_id: int) -> str:
    """How a query opened by a rule names it (kept in the query's ``rule``)."""
    return f"quality:{rule_id}"


def _discrepancies(
    session: Session, row: QualityRule, sites: list[str] | None
) -> list[Discrepancy]:
    rule = parse_rule(row.condition, form_fields(row.form))
    model = FORMS[row.form][0]
    study = get_study(session)
    found = session.execute(
        select(model, Subject.code, Site.code)
        .join(Subject, Subject.id == model.subject_id)  # type: ignore[attr-defined]
        .join(Site, Site.id == Subject.site_id)
        .where(Subject.study_id == study.id, Subject.deleted_at.is_(None),
               model.deleted_at.is_(None))
        .order_by(Subject.code, model.id)
    ).all()  # fmt: skip
    hits = []
    for record, subject, site in found:
        if sites is not None and site not in sites:
            continue
        values = {c: getattr(record, c) for c in form_fields(row.form)}
        if rule.holds(values):
            hits.append((record, subject, site, values))
    named = captions(session, [(row.form, r.id) for r, _, _, _ in hits])
    open_by_record = {
        q.record_id: q.id
        for q in session.scalars(select(DataQuery).where(
            DataQuery.rule == _tag(row.id), DataQuery.table_name == row.form,
            DataQuery.state != "closed", DataQuery.deleted_at.is_(None)))
    }  # fmt: skip
    return [
        Discrepancy(subject, site, row.form, record.id,
                    named[(row.form, record.id)].text if (row.form, record.id) in named else "",
                    tuple((f, values[f]) for f in sorted(rule.fields)),
                    open_by_record.get(record.id))
        for record, subject, site, values in hits
    ]  # fmt: skip


def run_rule(
    store: Store, rule_id: int, *, sites: list[str] | None
) -> tuple[RuleView, list[Discrepancy]]:
    """The rule and the records it flags now, at ``sites`` (None: every site)."""
    with store.reader() as session:
        row = _rule(session, rule_id)
        return _view(row), _discrepancies(session, row, sites)


def open_queries(store: Store, user: str, rule_id: int, *, sites: list[str] | None) -> int:
    """Open a query on each discrepancy that has none from this rule yet; how many opened.
    One transaction: all or none."""
    with store.transaction(user=user, reason=f"data quality rule {rule_id}: queries") as tx:
        row = _rule(tx.session, rule_id)
        opened = 0
        for d in _discrepancies(tx.session, row, sites):
            if d.query_id is not None:
                continue
            record = tx.session.get_one(FORMS[row.form][0], d.record_id)
            open_manual_query(
                tx.session, user, record.subject_id,  # type: ignore[attr-defined]
                table=row.form, record_id=d.record_id, field=None,
                text=f"{row.name}: {row.message}", rule=_tag(row.id),
            )  # fmt: skip
            opened += 1
        return opened
