"""A protocol amendment applied to the demo study mid-study, checked against a hand
calculation: what it changes, which collected visits it re-flags, who owes the visit it
adds, whose eligibility it would change, and who must consent again.

The amendment (version 1.1, taking effect on 20 Jun 2024):
- adds W8 (day 56, window −7 to +7);
- narrows W12 from −7/+7 to −3/+3 days;
- adds exclusion E5: aged 50 or older and a current or former smoker (the population in
  which ORAL Surveillance found more cardiovascular events and cancers on tofacitinib).

Hand calculation, from the demo's first doses (pustula.demo.SUBJECTS) and, as set up
below, S01's and S03's week-12 visits moved to day 88:
- S01 W12 on 31 May 2024 (day 88): before 20 Jun, judged by 1.0 (±7): stays in window.
- S03 W12 on 5 Jul 2024 (day 88): on or after 20 Jun, judged by 1.1 (±3): late.
- S05 W12 on 21 Aug 2024 (day 93): late under both: not re-flagged.
- W8 window end = first dose + 63 days: S01 6 May, S02 20 May, S03 10 Jun (all before
  20 Jun: not owed); S04 8 Jul, S05 22 Jul, S06 5 Aug (owed).
- E5: S02 (58, former) and S05 (55, former) would not be eligible; S01 (42), S03 (47),
  S04 (51, never smoked) and S06 (44) would.
- Re-consent: every subject still in the study who was screened before 20 Jun: all six;
  S04 consents on 25 Jun, leaving S01, S02, S03, S05, S06.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from sqlalchemy import select

from pustula.analysis.datasets import build_analysis
from pustula.demo import DEMO_PASSWORD, SUBJECTS, create_demo_study, create_demo_users
from pustula.errors import DataValidationError, SignatureError
from pustula.store import Store, Visit, get_study, get_subject, verify_store
from pustula.store.monitoring.queries import visit_schedule
from pustula.store.records.amendments import protocol_history
from pustula.store.records.visits import update_visit
from pustula.store.services.amendments import (
    approve_amendment,
    consents_due,
    protocol_versions,
    record_reconsent,
    review_amendment,
    upload_amendment,
    withdraw_amendment,
)
from pustula.store.transfer.extract import read_study

EFFECTIVE = date(2024, 6, 20)
FIRST = {s["code"]: s["first_dose"] for s in SUBJECTS}
E5 = {"id": "E5", "text": "Aged 50 or older and a current or former smoker",
      "rule": {"all": [{"field": "age", "op": ">=", "value": 50},
                       {"field": "smoking", "op": "in", "value": ["current", "former"]}]}}  # fmt: skip


def amended_text(store: Store) -> str:
    with store.reader() as session:
        stated = yaml.safe_load(get_study(session).protocol_yaml)
    stated["version"] = "1.1"
    visits = stated["visits"]
    w12 = next(v for v in visits if v["code"] == "W12")
    w12["window_before"] = w12["window_after"] = 3
    visits.insert(3, {"code": "W8", "label": "Week 8", "day": 56, "window_before": 7,
                      "window_after": 7, "instruments": ["pppasi", "pga"]})  # fmt: skip
    stated["eligibility"]["exclusion"].append(E5)
    return yaml.safe_dump(stated, sort_keys=False)


@pytest.fixture
def demo(sqlite_store: Store) -> Store:
    create_demo_study(sqlite_store)
    create_demo_users(sqlite_store)
    for code in ("S01", "S03"):
        with sqlite_store.transaction(user="investigator", reason="date typed wrong") as tx:
            study = get_study(tx.session)
            subject = get_subject(tx.session, study, code)
            visit = tx.session.scalars(select(Visit).where(
                Visit.subject_id == subject.id, Visit.visit_code == "W12")).one()  # fmt: skip
            update_visit(tx, study, visit, {"visit_date": FIRST[code] + timedelta(days=88)},
                         expected_version=visit.version)  # fmt: skip
    return sqlite_store


def flags(store: Store) -> dict[tuple[str, str], tuple[str, str | None]]:
    with store.reader() as session:
        study = get_study(session)
        rows = session.execute(
            select(Visit.visit_code, Visit.window_status, Visit.protocol_version,
                   Visit.subject_id)).all()  # fmt: skip
        codes = {get_subject(session, study, s["code"]).id: s["code"] for s in SUBJECTS}
    return {(codes[r.subject_id], r.visit_code): (str(r.window_status), r.protocol_version)
            for r in rows}  # fmt: skip


def draft(store: Store) -> str:
    version, problems = upload_amendment(
        store, "admin", text=amended_text(store), effective_on=EFFECTIVE,
        summary="Adds week 8, narrows the week-12 window, excludes older smokers",
    )  # fmt: skip
    assert problems == [] and version == "1.1"
    return version


def approve(store: Store, *, reconsent: bool = True) -> None:
    approve_amendment(store, "admin", version="1.1", username="admin", password=DEMO_PASSWORD,
                      reason="Ethics committee approval EC-2024-117", reconsent=reconsent)  # fmt: skip


def test_the_review_lists_the_changes_the_reflags_the_new_visit_and_eligibility(
    demo: Store,
) -> None:
    draft(demo)
    review = review_amendment(demo, "1.1")
    assert review.current == "1.0"
    assert [c.text for c in review.changes] == [
        "Window of W12 changed: day 84, −7 to +7 days → day 84, −3 to +3 days",
        "Visit W8 added: Week 8, day 56, −7 to +7 days (pppasi, pga)",
        "Exclusion E5 added: Aged 50 or older and a current or former smoker "
        "[Age ≥ 50 years and Smoking one of current or former]",
    ]
    assert [(r.subject, r.visit_code, r.study_day, r.before, r.after)
            for r in review.reflags] == [("S03", "W12", 88, "in_window", "late")]  # fmt: skip
    owed = {n.subject: n.owed for n in review.new_visits}
    assert owed == {"S01": False, "S02": False, "S03": False,
                    "S04": True, "S05": True, "S06": True}  # fmt: skip
    s04 = next(n for n in review.new_visits if n.subject == "S04")
    assert (s04.due, s04.window_end) == (date(2024, 7, 1), date(2024, 7, 8))
    assert [(e.subject, e.before, e.after) for e in review.eligibility] == [
        ("S02", "eligible", "not eligible"),
        ("S05", "eligible", "not eligible"),
    ]
    assert review.would_reconsent == ("S01", "S02", "S03", "S04", "S05", "S06")


def test_a_draft_changes_nothing_until_it_is_approved(demo: Store) -> None:
    before = flags(demo)
    draft(demo)
    assert flags(demo) == before
    with demo.reader() as session:
        assert protocol_history(session, get_study(session)).current.version == "1.0"


def test_approval_reflags_only_visits_since_it_took_effect_and_keeps_every_date(
    demo: Store,
) -> None:
    with demo.reader() as session:
        dates = dict(session.execute(select(Visit.id, Visit.visit_date)).all())
    before = flags(demo)
    draft(demo)
    approve(demo)
    after = flags(demo)
    changed = {k: (before[k], after[k]) for k in after if before[k][0] != after[k][0]}
    assert changed == {("S03", "W12"): (("in_window", "1.0"), ("late", "1.1"))}
    assert after[("S01", "W12")] == ("in_window", "1.0")  # taken before 20 Jun: 1.0's window
    assert after[("S05", "W12")] == ("late", "1.1")
    assert after[("S04", "W2")] == ("in_window", "1.0")  # 20 May: before it took effect
    with demo.reader() as session:
        assert dict(session.execute(select(Visit.id, Visit.visit_date)).all()) == dates
        assert get_study(session).protocol_version == "1.1"
    assert verify_store(demo).ok


def test_the_new_visit_is_owed_only_where_its_window_had_not_closed(demo: Store) -> None:
    draft(demo)
    approve(demo)
    with demo.reader() as session:
        schedule = visit_schedule(session, get_study(session), sites=None,
                                  today=date(2024, 7, 10))  # fmt: skip
    w8 = {p.subject: p.state for p in schedule if p.visit_code == "W8"}
    # S04's window closed on 8 Jul (overdue on the 10th); S05's opened on the 8th (due)
    assert w8 == {"S04": "overdue", "S05": "due", "S06": "upcoming"}


def test_reconsent_is_listed_until_recorded(demo: Store) -> None:
    draft(demo)
    approve(demo, reconsent=True)
    assert [(d.subject, d.consented_to, d.version) for d in consents_due(demo)] == [
        (c, "1.0", "1.1") for c in ("S01", "S02", "S03", "S04", "S05", "S06")
    ]
    with pytest.raises(DataValidationError, match="cannot be earlier"):
        record_reconsent(demo, "investigator", subject="S04", on=date(2024, 6, 19),
                         today=date(2024, 7, 1))  # fmt: skip
    record_reconsent(demo, "investigator", subject="S04", on=date(2024, 6, 25),
                     today=date(2024, 7, 1))  # fmt: skip
    assert [d.subject for d in consents_due(demo)] == ["S01", "S02", "S03", "S05", "S06"]
    with pytest.raises(DataValidationError, match="owes no consent"):
        record_reconsent(demo, "investigator", subject="S04", on=date(2024, 6, 26),
                         today=date(2024, 7, 1))  # fmt: skip


def test_no_reconsent_when_the_approval_says_so(demo: Store) -> None:
    draft(demo)
    approve(demo, reconsent=False)
    assert consents_due(demo) == []


def test_analysis_before_and_after_differs_only_in_the_reflagged_visit(demo: Store) -> None:
    before = build_analysis(read_study(demo)).adqs
    draft(demo)
    approve(demo)
    after_data = read_study(demo)
    after = build_analysis(after_data).adqs
    assert [v.version for v in after_data.history.versions] == ["1.0", "1.1"]
    keys = ["USUBJID", "PARAMCD", "AVISIT", "DTYPE"]
    observed_before = before[before["ADT"].notna()].set_index(keys).sort_index()
    observed_after = after[after["ADT"].notna()].set_index(keys).sort_index()
    assert observed_before.index.equals(observed_after.index)
    differs = observed_before.ne(observed_after) & ~(observed_before.isna() & observed_after.isna())
    cells = {(i[0][-3:], i[1], i[2], col) for i, row in differs.iterrows()
             for col in row.index if row[col]}  # fmt: skip
    assert cells == {("S03", p, "Week 12", "OUTWINFL") for p in ("PPPASI", "PGA")}
    # responders are analysed at their nominal visit (visit_windows: nominal): unchanged
    assert (observed_after["AVAL"].fillna(-1) == observed_before["AVAL"].fillna(-1)).all()
    assert pd.isna(after[after["AVISIT"] == "Week 8"]["AVAL"]).all()


def test_approval_needs_the_approvers_own_password_a_reason_and_a_reconsent_answer(
    demo: Store,
) -> None:
    draft(demo)
    with pytest.raises(SignatureError):
        approve_amendment(demo, "admin", version="1.1", username="admin", password="wrong",
                          reason="EC approval", reconsent=True)  # fmt: skip
    with pytest.raises(DataValidationError, match="consent again"):
        approve_amendment(demo, "admin", version="1.1", username="admin",
                          password=DEMO_PASSWORD, reason="EC approval", reconsent=None)  # fmt: skip
    assert [v.status for v in protocol_versions(demo)] == ["approved", "draft"]


def test_a_draft_with_problems_is_refused_by_line_and_field(demo: Store) -> None:
    text = amended_text(demo).replace("version: '1.1'", "version: '1.0'")
    version, problems = upload_amendment(demo, "admin", text=text, summary="",
                                         effective_on=None)  # fmt: skip
    assert version is None
    assert {p.field for p in problems} == {"summary", "effective_on"}
    version, problems = upload_amendment(demo, "admin", text=text, summary="x",
                                         effective_on=EFFECTIVE)  # fmt: skip
    assert [(p.line, p.field) for p in problems] == [(3, "version")]
    assert "already a version" in problems[0].message
    assert [v.version for v in protocol_versions(demo)] == ["1.0"]


def test_a_withdrawn_draft_stays_listed_and_frees_the_way(demo: Store) -> None:
    draft(demo)
    withdraw_amendment(demo, "admin", version="1.1", reason="superseded by 1.2")
    assert [(v.version, v.status) for v in protocol_versions(demo)] == [
        ("1.0", "approved"),
        ("1.1", "withdrawn"),
    ]


def test_the_report_lists_the_amendment_and_the_versions_in_force(demo: Store) -> None:
    from pustula.report.build import report_from_analysis

    draft(demo)
    approve(demo)
    report = report_from_analysis(build_analysis(read_study(demo)), figures=False)
    table = report.tables["Protocol amendments"]
    assert table.to_dict("records")[0] | {"Approved": ""} == {
        "Version": "1.1", "Takes effect": "2024-06-20", "Approved": "",
        "Subjects consent again": "yes",
        "What it changes": "; ".join(c.text for c in review_changes()),
    }  # fmt: skip
    assert "EC-2024-117" in table["Approved"][0]
    assert report.reproducibility["Protocol"] == (
        "TOFA-PPP version 1.1; first version 1.0, then 1.1 from 2024-06-20"
    )


def review_changes() -> list[object]:
    from pustula.demo import demo_protocol_file
    from pustula.protocol import load_protocol, parse_protocol
    from pustula.protocol.amendments import diff_protocols

    old = load_protocol(demo_protocol_file())
    store_free = yaml.safe_load(Path(demo_protocol_file()).read_text())
    store_free["version"] = "1.1"
    w12 = next(v for v in store_free["visits"] if v["code"] == "W12")
    w12["window_before"] = w12["window_after"] = 3
    store_free["visits"].insert(3, {"code": "W8", "label": "Week 8", "day": 56,
                                    "window_before": 7, "window_after": 7,
                                    "instruments": ["pppasi", "pga"]})  # fmt: skip
    store_free["eligibility"]["exclusion"].append(E5)
    return list(diff_protocols(old, parse_protocol(store_free)))


def test_a_visit_with_data_cannot_be_removed(demo: Store) -> None:
    stated = yaml.safe_load(amended_text(demo))
    stated["visits"] = [v for v in stated["visits"] if v["code"] != "W2"]
    _, problems = upload_amendment(demo, "admin", text=yaml.safe_dump(stated, sort_keys=False),
                                   summary="Drops week 2", effective_on=EFFECTIVE)  # fmt: skip
    assert [p.message for p in problems] == [
        "visit W2 is recorded for 6 subject(s): a visit with data stays in the protocol, so "
        "that its data keep their visit and window"
    ]
