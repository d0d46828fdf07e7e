"""A randomized trial's steps, one unit of work each: generate the allocation list, randomize
a subject, unblind one in an emergency; and what blinded and unblinded readers see.

The web app, the API and the CLI call these; which of them a person may call is decided
above (:mod:`pustula.web.access`). Functions that return arms say so in their names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pustula.errors import (
    DataValidationError,
    RandomizationError,
    RecordNotFoundError,
    SignatureError,
)
from pustula.protocol import Protocol
from pustula.protocol.randomization import FACTORS, POOLED_ARM, pooled_arms
from pustula.randomization import factor_levels, new_seed
from pustula.store.accounts.users import authenticate
from pustula.store.db.uow import Store
from pustula.store.records.deviations import deviations_of, record_deviation
from pustula.store.records.interim import interim_decisions, record_interim_decision
from pustula.store.records.randomization import (
    ListSummary,
    Randomized,
    allocation_of,
    allocation_slots,
    arm_of,
    generate_list,
    list_summary,
    randomize,
    recorded_levels,
    reproduce_list,
    study_sites,
    unblind,
    unblindings,
)
from pustula.store.records.study import get_study, get_subject, protocol_of
from pustula.store.services.clinical import study_protocol

__all__ = [
    "RandomizationForm",
    "allocation_list_with_arms",
    "allocation_summary",
    "arms_as_seen",
    "emergency_unblind",
    "generate_allocation",
    "holds_randomized_study",
    "interim_log",
    "randomization_form",
    "randomization_of",
    "randomize_subject",
    "record_interim",
    "record_subject_deviation",
    "subject_arm",
    "subject_deviations",
    "unblinding_log",
    "verify_allocation",
]


@dataclass(frozen=True)
class Factor:
    """A stratification factor as the coordinator confirms it."""

    name: str
    label: str
    levels: tuple[str, ...]
    recorded: str | None


@dataclass(frozen=True)
class RandomizationForm:
    """What the *Randomize* step shows: the factors to confirm, or the randomization done."""

    code: str
    status: str
    blinding: str
    factors: tuple[Factor, ...]
    done: Randomized | None
    list_ready: bool


def holds_randomized_study(store: Store) -> bool:
    """Whether the study is a randomized trial (False when there is no study yet).

    >>> holds_randomized_study(trial_store()), holds_randomized_study(demo_store())
    (True, False)
    """
    try:
        return study_protocol(store).randomized
    except RecordNotFoundError:
        return False


def generate_allocation(store: Store, user: str, *, seed: str | None = None) -> ListSummary:
    """Generate the allocation list from ``seed`` (a new random seed when None).

    Examples
    --------
    >>> store = trial_store()
    >>> summary = generate_allocation(store, "stat.u", seed="ab" * 32)
    >>> summary.method, summary.slots, summary.used
    ('permuted_blocks', 240, 0)
    """
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        return generate_list(tx, study, protocol_of(study), seed=(seed or new_seed()).lower())


def allocation_summary(store: Store) -> ListSummary | None:
    with store.reader() as session:
        return list_summary(session, get_study(session))


def randomization_form(store: Store, code: str) -> RandomizationForm:
    """The factors to confirm for ``code``, with the casebook's values beside them."""
    with store.reader() as session:
        study = get_study(session)
        protocol = protocol_of(study)
        if protocol.randomization is None:
            raise RandomizationError(f"study {protocol.id} is not randomized")
        subject = get_subject(session, study, code)
        sites = study_sites(session, study)
        recorded = recorded_levels(session, protocol, subject)
        factors = tuple(
            Factor(s.factor, FACTORS[s.factor], factor_levels(s, sites), recorded[s.factor])
            for s in protocol.randomization.strata
        )
        return RandomizationForm(code, subject.status, protocol.randomization.blinding, factors,
                                 allocation_of(session, subject),
                                 list_summary(session, study) is not None)  # fmt: skip


def randomize_subject(
    store: Store, user: str, code: str, *, confirmed: Mapping[str, str], on: date | None
) -> Randomized:
    """Randomize ``code`` with the confirmed strata, on ``on`` (today when None)."""
    with store.transaction(user=user) as tx:
        study = get_study(tx.session)
        protocol = protocol_of(study)
        subject = get_subject(tx.session, study, code)
        if protocol.randomization is None:
            raise RandomizationError(f"study {protocol.id} is not randomized: its protocol has "
                                     "no randomization block")  # fmt: skip
        return randomize(tx, study, protocol, subject, confirmed=confirmed,
                         on=on or date.today())  # fmt: skip


def record_subject_deviation(
    store: Store, user: str, code: str, *, category: str, description: str, on: date | None
) -> list[dict[str, Any]]:
    """Record a protocol deviation of ``code``; the subject's deviations back.

    >>> store = demo_store()
    >>> rows = record_subject_deviation(store, "dr.k", "S01", category="prohibited medication",
    ...     description="took systemic prednisolone for 5 days", on=date(2024, 4, 2))
    >>> rows[-1]["kind"]
    'Took a medication the protocol prohibits'
    """
    with store.transaction(user=user) as tx:
        subject = get_subject(tx.session, get_study(tx.session), code)
        record_deviation(tx, subject, category=category, description=description,
                         occurred_on=on)  # fmt: skip
        return deviations_of(tx.session, subject)


def subject_deviations(store: Store, code: str) -> list[dict[str, Any]]:
    """A subject's protocol deviations, oldest first."""
    with store.reader() as session:
        return deviations_of(session, get_subject(session, get_study(session), code))


def record_interim(
    store: Store, user: str, *, password: str, look: Mapping[str, Any], comment: str
) -> list[dict[str, Any]]:
    """Record an interim look's decision after the user re-enters their password (as for
    a signature); ``look`` holds what the look computed from the data. Every decision
    recorded so far back."""
    if not password:
        raise DataValidationError("enter your password again", field="password")
    with store.transaction(user=user) as tx:
        if authenticate(tx.session, user, password) is None:
            raise SignatureError("the password is not yours; nothing was recorded")
        study = get_study(tx.session)
        record_interim_decision(tx, study, look=str(look["look"]),
                                evaluable=int(look["evaluable"]),
                                responders=int(look["responders"]),
                                statistic=look.get("statistic"),
                                decision=str(look["decision"]), reason=str(look["reason"]),
                                comment=comment)  # fmt: skip
        return interim_decisions(tx.session, study)


def interim_log(store: Store) -> list[dict[str, Any]]:
    """Every interim decision recorded, oldest first."""
    with store.reader() as session:
        return interim_decisions(session, get_study(session))


def randomization_of(store: Store, code: str) -> Randomized | None:
    """The subject's randomization as blinded staff see it (kit and date, no arm)."""
    with store.reader() as session:
        study = get_study(session)
        return allocation_of(session, get_subject(session, study, code))


def subject_arm(store: Store, code: str) -> str | None:
    """The subject's arm: for the unblinded statistician and the DMC only."""
    with store.reader() as session:
        return arm_of(session, get_subject(session, get_study(session), code))


def emergency_unblind(store: Store, user: str, *, password: str, code: str, reason: str) -> str:
    """Unblind one subject in an emergency: the investigator re-enters their password and
    gives a reason; the unblinding is audited and listed for the monitor. The arm's label."""
    errors = {}
    if not password:
        errors["password"] = "enter your password again"
    if not reason.strip():
        errors["reason"] = "say why the subject's treatment must be known"
    if errors:
        raise DataValidationError(next(iter(errors.values())), field=next(iter(errors)),
                                  errors=errors)  # fmt: skip
    with store.transaction(user=user) as tx:
        who = authenticate(tx.session, user, password)
        if who is None:
            raise SignatureError("the password is not yours; nothing was unblinded")
        study = get_study(tx.session)
        protocol = protocol_of(study)
        arm = unblind(tx, protocol, get_subject(tx.session, study, code), reason=reason)
        return next(a.label for a in protocol.arms if a.code == arm)


def arms_as_seen(store: Store, *, arms: bool = False) -> tuple[Protocol, dict[str, str]]:
    """The protocol and each randomized subject's arm as a reader may see them: a blinded
    trial's arms pooled into ``BLINDED`` unless ``arms`` (unblinded readers only).

    >>> protocol, seen = arms_as_seen(demo_store())
    >>> [a.code for a in protocol.arms], seen
    (['TOFA'], {})
    """
    with store.reader() as session:
        study = get_study(session)
        protocol = protocol_of(study)
        rows = allocation_slots(session, study)
    allocated = {r["subject"]: r["arm"] for r in rows if r["subject"]}
    if protocol.blinded and not arms:
        protocol = protocol.model_copy(update={"arms": pooled_arms(protocol.arms)})
        allocated = dict.fromkeys(allocated, POOLED_ARM["code"])
    return protocol, allocated


def unblinding_log(store: Store) -> list[dict[str, Any]]:
    """Every emergency unblinding (who, when, why), for the monitor: no arms."""
    with store.reader() as session:
        return unblindings(session, get_study(session))


def allocation_list_with_arms(store: Store) -> list[dict[str, Any]]:
    """The whole allocation list with arms and subjects: the unblinded statistician's."""
    with store.reader() as session:
        return allocation_slots(session, get_study(session))


def verify_allocation(store: Store) -> list[str]:
    """An auditor's check: the stored list against the list its seed gives."""
    with store.reader() as session:
        study = get_study(session)
        return reproduce_list(session, study, protocol_of(study))
