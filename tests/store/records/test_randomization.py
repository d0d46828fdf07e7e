"""Randomizing in the store: concealment in the audit trail, refusals that change nothing,
the wrong-stratum deviation, the auditor's replay of the list, emergency unblinding, and
concurrent coordinators (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select, text

from pustula.demo import trial_protocol, trial_protocol_file
from pustula.demo_trial import create_trial_study
from pustula.errors import DataValidationError, RandomizationError, SignatureError
from pustula.protocol import parse_protocol
from pustula.store import Store, add_study, enrol_subject, verify_store
from pustula.store.accounts.users import add_user
from pustula.store.db.models import Allocation, AuditLog, Deviation, Unblinding
from pustula.store.services.trial import (
    allocation_summary,
    emergency_unblind,
    generate_allocation,
    randomization_form,
    randomization_of,
    randomize_subject,
    subject_arm,
    unblinding_log,
    verify_allocation,
)
from tests.store.helpers import BASELINE, LABS, PRIOR, count

SEED = "0123456789abcdef" * 4
ON = date(2025, 2, 3)


def _trial(store: Store, *, subjects: int = 0, allocate: bool = True) -> None:
    create_trial_study(store, subjects=0, allocate=False)
    if allocate:
        generate_allocation(store, "stat.u", seed=SEED)
    for n in range(1, subjects + 1):
        _enrol(store, f"R{n:03d}", site="SITE1" if n % 2 else "SITE2")


def _enrol(store: Store, code: str, *, site: str = "SITE1", smoking: str = "current",
           labs: dict[str, float] = LABS) -> None:  # fmt: skip
    from pustula.store import get_study

    with store.transaction(user="coordinator") as tx:
        enrol_subject(tx, get_study(tx.session), code=code, site=site,
                      screened_on=date(2025, 1, 27), baseline={**BASELINE, "smoking": smoking},
                      prior_therapies=PRIOR, screening_labs=labs)  # fmt: skip


def _audit_text(store: Store) -> str:
    """Every audited value but the study's own row and its protocol versions (a protocol
    names the arms; which subject is in which arm is what must not show)."""
    with store.reader() as session:
        rows = session.execute(select(AuditLog.old_value, AuditLog.new_value).where(
            AuditLog.table_name.not_in(("study", "protocol_version")))).all()  # fmt: skip
    return " ".join(f"{r.old_value} {r.new_value}" for r in rows)


def test_the_list_and_each_randomization_reach_the_trail_without_an_arm(store: Store) -> None:
    _trial(store, subjects=3)
    for code in ("R001", "R002", "R003"):
        randomize_subject(store, "coordinator", code, confirmed={
            "site": "SITE1" if code != "R002" else "SITE2", "smoking": "ever"}, on=ON)  # fmt: skip
    trail = _audit_text(store)
    assert "TOFA5" not in trail and "PLCB" not in trail and SEED not in trail
    with store.reader() as session:
        digests = [r for (r,) in session.execute(select(AuditLog.new_value).where(
            AuditLog.table_name == "allocation", AuditLog.action == "insert"))]  # fmt: skip
    arms = [d.split('"arm": "')[1].split('"')[0] for d in digests]
    # 240 slots of two arms, each digest salted with its row: no two alike
    assert len(arms) == 240 and len(set(arms)) == 240
    assert verify_store(store).problems == ()


def test_randomization_gives_the_next_slot_of_the_confirmed_stratum(store: Store) -> None:
    _trial(store, subjects=2)
    first = randomize_subject(store, "coordinator", "R001",
                              confirmed={"site": "SITE1", "smoking": "ever"}, on=ON)  # fmt: skip
    assert (first.stratum, first.randomized_on, first.randomized_by) == (
        "SITE1 · ever",
        ON,
        "coordinator",
    )
    with store.reader() as session:
        slot = session.scalar(select(Allocation).where(Allocation.stratum == "SITE1 · ever",
                                                       Allocation.position == 1))  # fmt: skip
        assert slot is not None and slot.kit == first.kit and slot.subject_id is not None
    assert subject_arm(store, "R001") == slot.arm
    summary = allocation_summary(store)
    assert summary is not None and summary.used == 1


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("screen failure", "only an enrolled, eligible subject"),
        ("twice", "an allocation is final"),
        ("no list", "has not been generated yet"),
        ("used up", "is used up"),
    ],
)
def test_refusals_name_the_reason_and_change_nothing(store: Store, case: str, words: str) -> None:
    _trial(store, subjects=1, allocate=case != "no list")
    _enrol(store, "FAIL", labs={**LABS, "lymphocytes": 300})  # below 500: excluded
    confirmed = {"site": "SITE1", "smoking": "ever"}
    if case == "twice":
        randomize_subject(store, "coordinator", "R001", confirmed=confirmed, on=ON)
    if case == "used up":  # every one of the 60 SITE1 · ever slots given to someone else
        for n in range(60):
            _enrol(store, f"F{n:02d}")
            randomize_subject(store, "coordinator", f"F{n:02d}", confirmed=confirmed, on=ON)
    code = "FAIL" if case == "screen failure" else "R001"
    before = (count(store, AuditLog), count(store, Deviation),
              randomization_of(store, code) if case != "screen failure" else None)  # fmt: skip
    with pytest.raises(RandomizationError, match=words):
        randomize_subject(store, "coordinator", code, confirmed=confirmed, on=ON)
    after = (count(store, AuditLog), count(store, Deviation),
             randomization_of(store, code) if case != "screen failure" else None)  # fmt: skip
    assert after == before


def test_unconfirmed_or_unknown_strata_are_errors_next_to_their_fields(store: Store) -> None:
    _trial(store, subjects=1)
    with pytest.raises(DataValidationError) as caught:
        randomize_subject(store, "coordinator", "R001", confirmed={"smoking": "sometimes"}, on=ON)
    assert set(caught.value.errors) == {"site", "smoking"}
    assert "choose one of: never, ever" in caught.value.errors["smoking"]
    assert randomization_of(store, "R001") is None


def test_a_wrong_stratum_is_kept_and_recorded_as_a_deviation(store: Store) -> None:
    _trial(store, subjects=1)  # R001 is a current smoker at SITE1
    done = randomize_subject(store, "coordinator", "R001",
                             confirmed={"site": "SITE1", "smoking": "never"}, on=ON)  # fmt: skip
    assert done.stratum == "SITE1 · never"
    with store.reader() as session:
        deviation = session.scalars(select(Deviation)).one()
    assert deviation.category == "randomization stratum"
    assert "smoking status on the baseline form: ever (confirmed: never)" in deviation.description


def test_the_form_shows_what_the_casebook_records_beside_each_factor(store: Store) -> None:
    _trial(store, subjects=1)
    form = randomization_form(store, "R001")
    assert [(f.name, f.levels, f.recorded) for f in form.factors] == [
        ("site", ("SITE1", "SITE2"), "SITE1"),
        ("smoking", ("never", "ever"), "ever"),
    ]
    assert form.done is None and form.list_ready and form.blinding == "double"


def test_an_auditor_reproduces_the_list_from_its_seed_and_finds_a_doctored_slot(
    store: Store,
) -> None:
    _trial(store)
    assert verify_allocation(store) == []
    with store.engine.begin() as connection:
        connection.execute(text(
            "UPDATE allocation SET arm = CASE arm WHEN 'TOFA5' THEN 'PLCB' ELSE 'TOFA5' END "
            "WHERE position = 1"))  # fmt: skip
    problems = verify_allocation(store)
    assert len(problems) == 4 and all("is not as generated" in p for p in problems)
    assert any("arm is not the value the audit trail holds" in p
               for p in verify_store(store).problems)  # fmt: skip


def test_a_list_is_generated_once(store: Store) -> None:
    _trial(store)
    with pytest.raises(RandomizationError, match="a list is final"):
        generate_allocation(store, "stat.u", seed=SEED)


def test_a_seed_must_be_long_hexadecimal(store: Store) -> None:
    _trial(store, allocate=False)
    with pytest.raises(DataValidationError, match="32 hexadecimal"):
        generate_allocation(store, "stat.u", seed="1234")


def test_emergency_unblinding_needs_the_password_and_a_reason_and_is_listed(store: Store) -> None:
    _trial(store, subjects=1)
    with store.transaction(user="admin") as tx:
        add_user(tx, username="dr.k", password="a long password 1", role="investigator",
                 sites=["*"])  # fmt: skip
    randomize_subject(store, "coordinator", "R001", confirmed={"site": "SITE1", "smoking": "ever"},
                      on=ON)  # fmt: skip
    with pytest.raises(DataValidationError) as caught:
        emergency_unblind(store, "dr.k", password="", code="R001", reason=" ")
    assert set(caught.value.errors) == {"password", "reason"}
    with pytest.raises(SignatureError):
        emergency_unblind(store, "dr.k", password="wrong", code="R001", reason="anaphylaxis")
    assert count(store, Unblinding) == 0
    label = emergency_unblind(store, "dr.k", password="a long password 1", code="R001",
                              reason="suspected anaphylaxis")  # fmt: skip
    arm = subject_arm(store, "R001")
    assert label == next(a.label for a in trial_protocol().arms if a.code == arm)
    [entry] = unblinding_log(store)
    assert (entry["subject"], entry["by"], entry["reason"]) == (
        "R001",
        "dr.k",
        "suspected anaphylaxis",
    )
    assert "arm" not in entry
    done = randomization_of(store, "R001")
    assert done is not None and done.unblinded_at == entry["at"]


def test_minimization_allocates_and_replays_from_the_seed(tmp_path: Path) -> None:
    data = yaml.safe_load(Path(trial_protocol_file()).read_text())
    data["randomization"] = {"method": "minimization", "blinding": "double",
                             "strata": data["randomization"]["strata"]}  # fmt: skip
    store = Store.open(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    store.create_schema()
    with store.transaction(user="t") as tx:
        add_study(tx, parse_protocol(data), sites=[("SITE1", "A"), ("SITE2", "B")])
    generate_allocation(store, "stat.u", seed=SEED)
    for n in range(1, 13):
        _enrol(store, f"M{n:02d}", site="SITE1" if n % 3 else "SITE2")
        randomize_subject(store, "c", f"M{n:02d}", confirmed={
            "site": "SITE1" if n % 3 else "SITE2", "smoking": "ever"}, on=ON)  # fmt: skip
    arms = [subject_arm(store, f"M{n:02d}") for n in range(1, 13)]
    assert 6 <= arms.count("TOFA5") <= 10  # 2:1 of 12 is 8
    assert verify_allocation(store) == []
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE allocation SET arm = 'PLCB' WHERE position = 1"))
        connection.execute(text("UPDATE allocation SET arm = 'TOFA5' WHERE position = 2"))
    assert verify_allocation(store) != []
    store.dispose()


def test_fifty_coordinators_at_once_never_share_or_skip_a_slot(store: Store) -> None:
    _trial(store, subjects=50)
    barrier, errors = threading.Barrier(50), []

    def randomize_one(n: int) -> None:
        barrier.wait()
        try:
            randomize_subject(store, f"coordinator{n}", f"R{n:03d}", confirmed={
                "site": "SITE1" if n % 2 else "SITE2", "smoking": "ever"}, on=ON)  # fmt: skip
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=randomize_one, args=(n,)) for n in range(1, 51)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.reader() as session:
        used = session.execute(select(Allocation.stratum, Allocation.position, Allocation.subject_id)
                               .where(Allocation.subject_id.is_not(None))).all()  # fmt: skip
        audited = session.scalar(select(func.count()).where(
            AuditLog.table_name == "allocation", AuditLog.field == "subject_id"))  # fmt: skip
    assert len(used) == 50 and len({r.subject_id for r in used}) == 50  # no duplicates
    for stratum in {r.stratum for r in used}:
        positions = sorted(r.position for r in used if r.stratum == stratum)
        assert positions == list(range(1, len(positions) + 1))  # none skipped
    assert audited == 50
    assert verify_store(store).problems == ()
