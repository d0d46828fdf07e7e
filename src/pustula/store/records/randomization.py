"""Randomized allocation in the store: the concealed list, randomizing a subject, emergency
unblinding, and the deviation a wrong stratum leaves.

Concealment: the arm, block and block size of every slot and the list's seed are kept in
their own tables and reach the audit trail only as keyed digests (``audit_redacted``), so
the trail proves they never changed without showing them. Blinded staff read
:class:`Randomized` (kit number and date); only :func:`arm_of` and
:func:`allocation_slots` read arms, and only the unblinded pages call them.

Two coordinators randomizing at once: a randomization first takes the audit chain's head
(SQLite's ``BEGIN IMMEDIATE`` already serializes writers), then reads the next free slot,
so that no two subjects get one slot and none is skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pustula.errors import DataValidationError, RandomizationError
from pustula.protocol.model import Protocol
from pustula.protocol.randomization import FACTORS, Randomization
from pustula.protocol.status import SubjectStatus
from pustula.randomization import (
    Minimizer,
    allocation_list,
    factor_levels,
    kit_numbers,
    level_of,
    stratum_name,
)
from pustula.randomization.allocation import Slot
from pustula.store.audit.chain import lock_chain_head
from pustula.store.db.models import (
    Allocation,
    AllocationList,
    Assessment,
    Baseline,
    Deviation,
    Site,
    Study,
    Subject,
    Unblinding,
    Visit,
)
from pustula.store.db.uow import Transaction

__all__ = [
    "ListSummary",
    "Randomized",
    "allocation_of",
    "allocation_slots",
    "arm_of",
    "generate_list",
    "list_of",
    "list_problems",
    "list_summary",
    "randomize",
    "recorded_levels",
    "reproduce_list",
    "study_sites",
    "unblind",
    "unblindings",
]

DEVIATION_STRATUM = "randomization stratum"


@dataclass(frozen=True)
class Randomized:
    """What blinded staff see of a randomization: the kit, the date, the stratum, and
    whether the subject was unblinded in an emergency (and when)."""

    subject: str
    kit: int | None
    randomized_on: date
    stratum: str
    randomized_by: str
    unblinded_at: str | None = None


@dataclass(frozen=True)
class ListSummary:
    """An allocation list as the unblinded statistician sees it, without its slots."""

    method: str
    generated_by: str
    generated_at: str
    list_sha256: str
    sites: tuple[str, ...]
    slots: int
    used: int


def _randomization(protocol: Protocol) -> Randomization:
    if protocol.randomization is None:
        raise RandomizationError(f"study {protocol.id} is not randomized: its protocol has no "
                                 "randomization block")  # fmt: skip
    return protocol.randomization


def study_sites(session: Session, study: Study) -> list[str]:
    return list(session.scalars(select(Site.code).where(
        Site.study_id == study.id, Site.deleted_at.is_(None)).order_by(Site.id)))  # fmt: skip


def _list_sha256(slots: Sequence[Slot]) -> str:
    text = json.dumps([asdict(s) for s in slots], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def list_of(session: Session, study: Study) -> AllocationList | None:
    return session.scalar(select(AllocationList).where(AllocationList.study_id == study.id))


def generate_list(tx: Transaction, study: Study, protocol: Protocol, *, seed: str) -> ListSummary:
    """Generate the study's allocation list from ``seed`` (or set up minimization). Final:
    a study has one list, and generating it again is refused."""
    randomization = _randomization(protocol)
    session = tx.session
    existing = list_of(session, study)
    if existing is not None:
        raise RandomizationError(
            f"the allocation list was generated on {existing.generated_at[:10]} by "
            f"{existing.generated_by}; a list is final and is not generated again"
        )
    if len(seed) < 32 or any(c not in "0123456789abcdef" for c in seed):
        raise DataValidationError(
            "seed: enter at least 32 hexadecimal characters (0-9, a-f), or leave it empty "
            "for a new random seed", field="seed")  # fmt: skip
    sites = study_sites(session, study)
    at, user = str(session.info["at"]), str(session.info["user"])
    slots = (
        allocation_list(protocol, seed, sites) if randomization.method == "permuted_blocks" else []
    )
    row = AllocationList(
        study_id=study.id, method=randomization.method, seed=seed, sites=sites,
        list_sha256=_list_sha256(slots), generated_by=user, generated_at=at,
    )  # fmt: skip
    session.add(row)
    tx.flush()
    session.add_all(
        Allocation(list_id=row.id, stratum=s.stratum, position=s.position, block=s.block,
                   block_size=s.block_size, arm=s.arm, kit=s.kit, confirmed_levels={},
                   recorded_levels={})
        for s in slots
    )  # fmt: skip
    tx.flush()
    return _summary(session, row)


def _summary(session: Session, row: AllocationList) -> ListSummary:
    slots = session.scalar(select(func.count()).where(Allocation.list_id == row.id)) or 0
    used = session.scalar(select(func.count()).where(
        Allocation.list_id == row.id, Allocation.subject_id.is_not(None))) or 0  # fmt: skip
    return ListSummary(row.method, row.generated_by, row.generated_at, row.list_sha256,
                       tuple(row.sites), slots, used)  # fmt: skip


def list_summary(session: Session, study: Study) -> ListSummary | None:
    row = list_of(session, study)
    return None if row is None else _summary(session, row)


def reproduce_list(session: Session, study: Study, protocol: Protocol) -> list[str]:
    """What differs between the stored list and the list its seed gives (an auditor's
    check); empty when the list reproduces slot for slot."""
    row = list_of(session, study)
    if row is None:
        return ["no allocation list has been generated"]
    stored = session.scalars(select(Allocation).where(Allocation.list_id == row.id))
    slots = [{c: getattr(a, c) for c in ("stratum", "position", "block", "block_size", "arm",
                                         "kit", "confirmed_levels")} for a in stored]  # fmt: skip
    return list_problems(protocol, {"method": row.method, "seed": row.seed, "sites": row.sites,
                                    "list_sha256": row.list_sha256}, slots)  # fmt: skip


def list_problems(
    protocol: Protocol, header: Mapping[str, Any], slots: Sequence[Mapping[str, Any]]
) -> list[str]:
    """What differs between ``slots`` (rows of an allocation list: stratum, position,
    block, block size, arm, kit, confirmed levels) and what the list's seed gives; shared by
    the auditor's check and a bundle's import."""
    seed = str(header["seed"])
    if header["method"] != "permuted_blocks":
        return _replay_minimization(protocol, seed, slots)
    expected = allocation_list(protocol, seed, list(header["sites"]))
    problems = [] if _list_sha256(expected) == header["list_sha256"] else [
        "the list's recorded SHA-256 is not that of the list its seed gives"]  # fmt: skip
    stored = {(a["stratum"], a["position"]): a for a in slots}
    for slot in expected:
        a = stored.pop((slot.stratum, slot.position), None)
        if a is None:
            problems.append(f"slot {slot.position} of stratum {slot.stratum} is missing")
        elif (a["arm"], a["kit"], a["block"], a["block_size"]) != (
                slot.arm, slot.kit, slot.block, slot.block_size):  # fmt: skip
            problems.append(f"slot {slot.position} of stratum {slot.stratum} is not as generated")
    problems += [f"slot {p} of stratum {s} was not generated" for s, p in stored]
    return problems


def _replay_minimization(
    protocol: Protocol, seed: str, slots: Sequence[Mapping[str, Any]]
) -> list[str]:
    minimizer, problems = Minimizer(protocol, seed), []
    for a in sorted(slots, key=lambda a: int(a["position"])):
        levels = {k: str(v) for k, v in dict(a["confirmed_levels"] or {}).items()}
        if minimizer.next_arm(a["position"], levels) != a["arm"]:
            problems.append(f"allocation {a['position']} is not the arm minimization gives")
        if a["kit"] != kit_numbers(seed, a["position"])[-1]:
            problems.append(f"allocation {a['position']} does not have its kit number")
        minimizer.add(levels, a["arm"])
    return problems


def recorded_levels(
    session: Session, protocol: Protocol, subject: Subject
) -> dict[str, str | None]:
    """Each stratification factor's level as the casebook records it (None: not recorded)."""
    randomization = _randomization(protocol)
    values: dict[str, Any] = {}
    needed = {s.factor for s in randomization.strata}
    if "site" in needed:
        values["site"] = session.scalar(select(Site.code).where(Site.id == subject.site_id))
    if needed & {"sex", "smoking"}:
        base = session.scalar(select(Baseline).where(
            Baseline.subject_id == subject.id, Baseline.deleted_at.is_(None)))  # fmt: skip
        values |= {"sex": base.sex, "smoking": base.smoking} if base is not None else {}
    if "pppasi_band" in needed:
        values["pppasi_band"] = session.scalar(
            select(Assessment.total).join(Visit, Visit.id == Assessment.visit_id).where(
                Visit.subject_id == subject.id, Visit.visit_code == protocol.baseline_visit.code,
                Visit.deleted_at.is_(None), Assessment.deleted_at.is_(None),
                Assessment.instrument == "pppasi"))  # fmt: skip
    return {s.factor: level_of(s, values.get(s.factor)) for s in randomization.strata}


def _confirmed(
    randomization: Randomization, sites: Sequence[str], confirmed: Mapping[str, str]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for stratum in randomization.strata:
        value = str(confirmed.get(stratum.factor) or "")
        levels = factor_levels(stratum, sites)
        if not value:
            errors[stratum.factor] = f"confirm {FACTORS[stratum.factor]}"
        elif value not in levels:
            errors[stratum.factor] = f"choose one of: {', '.join(levels)}"
    if errors:
        raise DataValidationError(next(iter(errors.values())), field=next(iter(errors)),
                                  errors=errors)  # fmt: skip
    return {s.factor: str(confirmed[s.factor]) for s in randomization.strata}


def randomize(
    tx: Transaction,
    study: Study,
    protocol: Protocol,
    subject: Subject,
    *,
    confirmed: Mapping[str, str],
    on: date,
) -> Randomized:
    """Randomize an enrolled subject with the strata the coordinator confirmed.

    A stratum confirmed differently from what the casebook records is used as confirmed
    (the allocation is final) and recorded as a protocol deviation.
    """
    randomization = _randomization(protocol)
    session = tx.session
    if subject.status != SubjectStatus.ENROLLED:
        status = str(subject.status).replace("_", " ")
        raise RandomizationError(
            f"subject {subject.code} cannot be randomized: only an enrolled, eligible subject "
            f"is (this subject's status is {status})"
        )
    sites = study_sites(session, study)
    levels = _confirmed(randomization, sites, confirmed)
    if on < (subject.enrolled_on or on):
        raise DataValidationError("the randomization date cannot be before enrolment",
                                  field="randomized_on")  # fmt: skip
    lock_chain_head(session)  # one randomization at a time: no slot given twice or skipped
    done = session.scalar(select(Allocation).where(Allocation.subject_id == subject.id))
    if done is not None:
        raise RandomizationError(
            f"subject {subject.code} was randomized on {done.randomized_on} (kit {done.kit}); "
            "an allocation is final and is never repeated"
        )
    row = list_of(session, study)
    if row is None:
        raise RandomizationError(
            "the allocation list has not been generated yet: the unblinded statistician "
            "generates it before the first subject is randomized"
        )
    name = stratum_name([levels[s.factor] for s in randomization.strata])
    slot = _next_slot(session, row, protocol, name, levels)
    recorded = recorded_levels(session, protocol, subject)
    slot.subject_id, slot.randomized_on = subject.id, on
    slot.confirmed_levels, slot.recorded_levels = levels, recorded
    wrong = {f: (levels[f], r) for f, r in recorded.items() if r is not None and r != levels[f]}
    if wrong:
        found = "; ".join(f"{FACTORS[f]}: {r} (confirmed: {c})" for f, (c, r) in wrong.items())
        session.add(Deviation(
            subject_id=subject.id, category=DEVIATION_STRATUM, occurred_on=on,
            description=f"randomized in stratum {name}, but the casebook records {found}",
        ))  # fmt: skip
    if not randomization.blinded:
        subject.arm = slot.arm
    tx.flush()
    return _randomized(subject.code, slot, None)


def _next_slot(
    session: Session, row: AllocationList, protocol: Protocol, name: str, levels: dict[str, str]
) -> Allocation:
    if row.method == "permuted_blocks":
        slot = session.scalar(
            select(Allocation).where(Allocation.list_id == row.id, Allocation.stratum == name,
                                     Allocation.subject_id.is_(None))
            .order_by(Allocation.position).limit(1))  # fmt: skip
        if slot is None:
            raise RandomizationError(
                f"the allocation list of stratum {name} is used up: no subject can be "
                "randomized in it until the unblinded statistician extends the list"
            )
        return slot
    earlier = list(session.scalars(select(Allocation).where(Allocation.list_id == row.id)
                                   .order_by(Allocation.position)))  # fmt: skip
    minimizer = Minimizer(protocol, row.seed)
    for a in earlier:
        minimizer.add({k: str(v) for k, v in a.confirmed_levels.items()}, a.arm)
    number = len(earlier) + 1
    kit = kit_numbers(row.seed, number)[-1] if _randomization(protocol).kits else None
    slot = Allocation(list_id=row.id, stratum=name, position=number, block=None,
                      block_size=None, arm=minimizer.next_arm(number, levels), kit=kit,
                      confirmed_levels=levels, recorded_levels={})  # fmt: skip
    session.add(slot)
    return slot


def _randomized(code: str, slot: Allocation, unblinded_at: str | None) -> Randomized:
    assert slot.randomized_on is not None
    return Randomized(code, slot.kit, slot.randomized_on, slot.stratum,
                      str(slot.updated_by or slot.created_by), unblinded_at)  # fmt: skip


def allocation_of(session: Session, subject: Subject) -> Randomized | None:
    """The subject's randomization as blinded staff see it; None if not randomized."""
    slot = session.scalar(select(Allocation).where(Allocation.subject_id == subject.id))
    if slot is None:
        return None
    first = session.scalar(select(Unblinding.unblinded_at).where(
        Unblinding.subject_id == subject.id).order_by(Unblinding.id).limit(1))  # fmt: skip
    return _randomized(subject.code, slot, first)


def arm_of(session: Session, subject: Subject) -> str | None:
    """The subject's arm: for unblinded roles and emergency unblinding only."""
    return session.scalar(select(Allocation.arm).where(Allocation.subject_id == subject.id))


def allocation_slots(session: Session, study: Study) -> list[dict[str, Any]]:
    """Every slot of the study's list with its arm and subject: the unblinded list."""
    row = list_of(session, study)
    if row is None:
        return []
    codes = dict(session.execute(select(Subject.id, Subject.code).where(
        Subject.study_id == study.id)).tuples().all())  # fmt: skip
    return [
        {"stratum": a.stratum, "position": a.position, "block": a.block,
         "block_size": a.block_size, "arm": a.arm, "kit": a.kit,
         "subject": codes.get(a.subject_id) if a.subject_id else None,
         "randomized_on": a.randomized_on}
        for a in session.scalars(select(Allocation).where(Allocation.list_id == row.id)
                                 .order_by(Allocation.stratum, Allocation.position))
    ]  # fmt: skip


def unblind(tx: Transaction, protocol: Protocol, subject: Subject, *, reason: str) -> str:
    """Record an emergency unblinding of one subject and give their arm."""
    randomization = _randomization(protocol)
    if not randomization.blinded:
        raise RandomizationError("this study is open-label: the arm is on the subject's page")
    if not reason.strip():
        raise DataValidationError("reason: say why the subject's treatment must be known",
                                  field="reason")  # fmt: skip
    arm = arm_of(tx.session, subject)
    if arm is None:
        raise RandomizationError(f"subject {subject.code} has not been randomized: there is no "
                                 "treatment to unblind")  # fmt: skip
    info = tx.session.info
    tx.session.add(Unblinding(subject_id=subject.id, unblinded_by=str(info["user"]),
                              unblinded_at=str(info["at"]), reason=reason.strip()))  # fmt: skip
    tx.flush()
    return arm


def unblindings(session: Session, study: Study) -> list[dict[str, Any]]:
    """Every emergency unblinding of the study (who, when, why; never the arm)."""
    rows = session.execute(
        select(Subject.code, Unblinding.unblinded_by, Unblinding.unblinded_at, Unblinding.reason)
        .join(Subject, Subject.id == Unblinding.subject_id)
        .where(Subject.study_id == study.id).order_by(Unblinding.id))  # fmt: skip
    return [{"subject": r.code, "by": r.unblinded_by, "at": r.unblinded_at, "reason": r.reason}
            for r in rows]  # fmt: skip
