"""Read-only snapshots of stored rows, and a subject's whole record read in one statement.

The subject page and the API's subject reads were dominated by the ORM: thirteen queries,
each costing more in object loading than in the database. Here each of the subject's rows
comes back as a JSON object from one ``UNION ALL`` statement (``row_to_json`` on
PostgreSQL, ``json_object`` on SQLite), decoded by column type into the same Python values
the ORM would give.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Float,
    Select,
    Table,
    bindparam,
    case,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from pustula.store.models import (
    AdverseEvent,
    Assessment,
    Baseline,
    ConMed,
    EligibilityResult,
    Exposure,
    Lab,
    PriorTherapy,
    Record,
    Visit,
)

__all__ = ["Snapshot", "subject_records"]

#: The subject's own tables, read for its timeline (assessments come through its visits).
SUBJECT_TABLES: tuple[type[Record], ...] = (
    Baseline, EligibilityResult, PriorTherapy, Exposure, Visit, AdverseEvent, Lab, ConMed,
)  # fmt: skip


class Snapshot:
    """One stored row's values, read-only, with attribute access like the ORM record's.

    It is not attached to a session: changing data goes through the store's services.
    """

    __slots__ = ("__tablename__", "_values")

    def __init__(self, table: str, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "__tablename__", table)
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"{self.__tablename__} has no column {name}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a {self.__tablename__} snapshot is read-only")

    def __repr__(self) -> str:
        return f"Snapshot({self.__tablename__!r}, id={self._values.get('id')!r})"

    @property
    def label(self) -> str:
        return f"{self.__tablename__} {self._values.get('id')}"

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


def subject_records(connection: Connection, subject_id: int) -> dict[str, list[Snapshot]]:
    """Every live row of the subject's tables and its visits' assessments, by table name.

    One statement and one round trip; rows are in id order within each table.
    """
    statement = _statement(connection.dialect.name)
    decoders = _decoders()
    found: dict[str, list[Snapshot]] = {m.__tablename__: [] for m in SUBJECT_TABLES}
    found[Assessment.__tablename__] = []
    for table, doc in connection.execute(statement, {"subject_id": subject_id}):
        values = json.loads(doc) if isinstance(doc, str) else doc
        for column, decode in decoders[table]:
            value = values[column]
            if value is not None:
                values[column] = decode(value)
        found[table].append(Snapshot(table, values))
    for rows in found.values():
        rows.sort(key=lambda r: r.id)
    return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _column_decoders(table: Table) -> list[tuple[str, Callable[[Any], Any]]]:
    decoders: list[tuple[str, Callable[[Any], Any]]] = []
    for column in table.columns:
        if isinstance(column.type, Boolean):
            decoders.append((column.name, bool))
        elif isinstance(column.type, Float):
            decoders.append((column.name, float))
        elif isinstance(column.type, Date):
            decoders.append((column.name, _as_date))
    return decoders


@functools.cache
def _decoders() -> dict[str, list[tuple[str, Callable[[Any], Any]]]]:
    models: tuple[type[Record], ...] = (*SUBJECT_TABLES, Assessment)
    return {m.__tablename__: _column_decoders(m.__table__) for m in models}  # type: ignore[arg-type]


def _json_row(table: Table, dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":
        # the whole row by name; listing the columns made the statement too long for
        # psycopg's query cache, and it re-parsed the text on every request
        return func.row_to_json(table.table_valued())
    pairs: list[Any] = []
    for column in table.columns:
        pairs.append(literal_column(f"'{column.name}'"))
        value: Any = column
        if dialect == "sqlite":
            if isinstance(column.type, JSON):
                value = func.json(column)
            elif isinstance(column.type, Float):
                # json_object prints 15 significant digits; 17 give back the same double
                # ("!" lifts SQLite's printf limit of 16)
                value = case((column.is_(None), null()), else_=func.printf("%!.17g", column))
        pairs.append(value)
    return func.json_object(*pairs)


@functools.cache
def _statement(dialect: str) -> Select[Any]:
    subject: Any = bindparam("subject_id")
    parts: list[Select[Any]] = []
    for model in SUBJECT_TABLES:
        table: Table = model.__table__  # type: ignore[assignment]
        parts.append(
            select(literal_column(f"'{table.name}'"), _json_row(table, dialect)).where(
                table.c.subject_id == subject, table.c.deleted_at.is_(None)
            )
        )
    visit: Table = Visit.__table__  # type: ignore[assignment]
    assessment: Table = Assessment.__table__  # type: ignore[assignment]
    parts.append(
        select(literal_column("'assessment'"), _json_row(assessment, dialect))
        .join_from(assessment, visit, visit.c.id == assessment.c.visit_id)
        .where(
            visit.c.subject_id == subject,
            visit.c.deleted_at.is_(None),
            assessment.c.deleted_at.is_(None),
        )
    )
    return union_all(*parts)  # type: ignore[return-value]
