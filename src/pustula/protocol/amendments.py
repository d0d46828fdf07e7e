"""Protocol amendments as data: what one version changes from another, and which version
was in force on a date.

A visit is judged by the protocol in force on the day it took place, so an amendment never
turns a visit that kept its window then into a late one, and a visit added by an amendment
is not owed by a subject whose window for it had closed before the amendment took effect
(decision 0020).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pustula.protocol.facts import COMPARISONS, describe_value, fact
from pustula.protocol.model import (
    AllOf,
    AnyOf,
    Condition,
    Criterion,
    Protocol,
    Refractory,
    Treatment,
    Visit,
)
from pustula.protocol.randomization import FACTORS, Minimization, Randomization, Stratum

__all__ = [
    "ConsentState",
    "ProtocolChange",
    "ProtocolHistory",
    "VersionInForce",
    "consent_state",
    "diff_protocols",
]

Area = Literal["visit", "window", "inclusion", "exclusion", "endpoint", "lab rule", "arm",
               "analysis", "study"]  # fmt: skip
#: "concealed": changed, but its values are not shown (an allocation could be foreseen)
Change = Literal["added", "removed", "changed", "concealed"]


@dataclass(frozen=True)
class ProtocolChange:
    """One difference between two protocol versions: what (``area`` and ``item``), how
    (``change``) and the values before and after, in words."""

    area: Area
    item: str
    change: Change
    before: str = ""
    after: str = ""

    @property
    def text(self) -> str:
        """The change in one sentence.

        >>> ProtocolChange("window", "W12", "changed", "day 84, −7 to +7 days",
        ...                "day 84, −3 to +3 days").text
        'Window of W12 changed: day 84, −7 to +7 days → day 84, −3 to +3 days'
        """
        what = {"window": "Window of", "lab rule": "Lab rule", "study": "Study"}.get(
            self.area, self.area.capitalize()
        )
        if self.change == "added":
            return f"{what} {self.item} added: {self.after}"
        if self.change == "removed":
            return f"{what} {self.item} removed (was: {self.before})"
        if self.change == "concealed":
            return f"{what} {self.item} changed (not shown: {self.after})"
        return f"{what} {self.item} changed: {self.before} → {self.after}"


def _window(v: Visit) -> str:
    return f"day {v.day}, −{v.window_before} to +{v.window_after} days"


def _visit(v: Visit) -> str:
    return f"{v.label}, {_window(v)}" + (f" ({', '.join(v.instruments)})" if v.instruments else "")


def _rule(rule: Any) -> str:
    if isinstance(rule, Condition):
        return (f"{fact(rule.field).label} {COMPARISONS[rule.op]}"
                f"{describe_value(rule.field, rule.value)}")  # fmt: skip
    if isinstance(rule, AllOf):
        return "(" + " and ".join(_rule(r) for r in rule.all) + ")"
    if isinstance(rule, AnyOf):
        return "(" + " or ".join(_rule(r) for r in rule.any) + ")"
    return f"not {_rule(rule.not_)}"


def _criterion(c: Criterion) -> str:
    """A criterion's text and its rule, so a changed threshold shows even when the text
    stayed the same.

    >>> _criterion(Criterion(id="E5", text="Aged 65 or older",
    ...                      rule={"field": "age", "op": ">=", "value": 65}))
    'Aged 65 or older [Age ≥ 65 years]'
    """
    return f"{c.text} [{_rule(c.rule)}]".replace("[(", "[").replace(")]", "]")


def _keyed(items: Sequence[Any], key: str = "id") -> dict[str, Any]:
    return {getattr(i, key): i for i in items}


def _compare(area: Area, old: dict[str, Any], new: dict[str, Any], describe: Any
             ) -> list[ProtocolChange]:  # fmt: skip
    changes = []
    for item in old:
        if item not in new:
            changes.append(ProtocolChange(area, item, "removed", before=describe(old[item])))
        elif old[item] != new[item]:
            changes.append(ProtocolChange(area, item, "changed", describe(old[item]),
                                          describe(new[item])))  # fmt: skip
    changes += [ProtocolChange(area, item, "added", after=describe(new[item]))
                for item in new if item not in old]  # fmt: skip
    return changes


def _visit_changes(old: Protocol, new: Protocol) -> list[ProtocolChange]:
    before, after = _keyed(old.visits, "code"), _keyed(new.visits, "code")
    changes = []
    for code, v in before.items():
        if code not in after:
            changes.append(ProtocolChange("visit", code, "removed", before=_visit(v)))
            continue
        w = after[code]
        if (v.day, v.window_before, v.window_after) != (w.day, w.window_before, w.window_after):
            changes.append(ProtocolChange("window", code, "changed", _window(v), _window(w)))
        if (v.label, v.instruments, v.baseline) != (w.label, w.instruments, w.baseline):
            changes.append(ProtocolChange("visit", code, "changed", _visit(v), _visit(w)))
    changes += [ProtocolChange("visit", code, "added", after=_visit(w))
                for code, w in after.items() if code not in before]  # fmt: skip
    return changes


def _endpoint(e: Any) -> str:
    cut = f" {e.threshold}%" if e.threshold else ""
    return f"{e.label} ({e.kind.replace('_', ' ')}{cut} at {e.visit})"


def _plain(model: Any) -> str:
    return ", ".join(
        f"{k.replace('_', ' ')} {v}"
        for k, v in model.model_dump(mode="json", exclude_defaults=True).items()
        if k not in ("id", "code")
    )


def diff_protocols(old: Protocol, new: Protocol) -> tuple[ProtocolChange, ...]:
    """What ``new`` changes from ``old``: visits added, removed or moved, windows,
    criteria, endpoints, lab rules, arms and the analysis plan, in that order.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> old = load_protocol(demo_protocol_file())
    >>> w12 = old.visit("W12").model_copy(update={"window_before": 3, "window_after": 3})
    >>> new = old.model_copy(update={"version": "1.1",
    ...                              "visits": (*old.visits[:3], w12)})
    >>> [c.text for c in diff_protocols(old, new)]
    ['Window of W12 changed: day 84, −7 to +7 days → day 84, −3 to +3 days']
    """
    changes = _visit_changes(old, new)
    for kind in ("inclusion", "exclusion"):
        changes += _compare(kind, _keyed(getattr(old.eligibility, kind)),
                            _keyed(getattr(new.eligibility, kind)),
                            _criterion)  # fmt: skip
    changes += _compare("endpoint", _keyed(old.endpoints), _keyed(new.endpoints), _endpoint)
    changes += _compare("lab rule", _keyed(old.lab_rules), _keyed(new.lab_rules),
                        lambda r: r.text)  # fmt: skip
    arms = _compare("arm", _keyed(old.arms, "code"), _keyed(new.arms, "code"), _plain)
    if arms and (old.blinded or new.blinded):
        # every role reads a version's changes; in a blinded trial no arm code, label or
        # treatment reaches a blinded one (the exports pool the arms for the same reason)
        arms = [ProtocolChange("arm", "definitions", "concealed",
                               after="the arms are concealed from blinded staff; the "
                               "amended file names them")]  # fmt: skip
    changes += arms
    plan_old, plan_new = old.analysis.model_dump(), new.analysis.model_dump()
    changes += [
        ProtocolChange("analysis", key.replace("_", " "), "changed", str(plan_old[key]),
                       str(plan_new[key]))
        for key in plan_old if plan_old[key] != plan_new[key]
    ]  # fmt: skip
    if old.title != new.title:
        changes.append(ProtocolChange("study", "title", "changed", old.title, new.title))
    changes += _study_changes(old, new)
    return tuple(changes)


def _study_changes(old: Protocol, new: Protocol) -> list[ProtocolChange]:
    """The definition of refractory, the randomization and the blinded kit, in words.

    Block sizes and the length of the allocation lists are never shown: every role but
    the unblinded statistician's and the DMC's is blinded, and knowing the sizes lets a
    site foresee the last allocations of a block (ICH E9, 2.3.2).
    """
    described = (
        ("definition of refractory", _refractory(old.refractory), _refractory(new.refractory)),
        ("randomization", _randomization(old.randomization), _randomization(new.randomization)),
        ("blinded study drug", _kit(old.blinded_treatment), _kit(new.blinded_treatment)),
    )
    changes = [ProtocolChange("study", item, "changed", before, after)
               for item, before, after in described if before != after]  # fmt: skip
    a, b = old.randomization, new.randomization
    if a is not None and b is not None and _concealed(a) != _concealed(b):
        changes.append(ProtocolChange(
            "study", "randomization block sizes or list length", "concealed",
            after="concealed from blinded staff, so that no allocation can be foreseen",
        ))  # fmt: skip
    return changes


#: A prior therapy's recorded response, as the definition of refractory reads it.
RESPONSES = {"none": "no response", "partial": "a partial response",
             "intolerant": "stopping because it was not tolerated"}  # fmt: skip


def _refractory(r: Refractory) -> str:
    """
    >>> _refractory(Refractory(failed_responses=("none", "partial")))
    'a prior therapy counts as failed after no response or a partial response'
    """
    responses = " or ".join(RESPONSES.get(x, x) for x in r.failed_responses)
    return f"a prior therapy counts as failed after {responses}"


def _stratum(s: Stratum) -> str:
    """
    >>> _stratum(Stratum(factor="smoking", groups={"ever": ("current", "former")}))
    'smoking status on the baseline form (ever: current or former)'
    """
    factor = FACTORS.get(s.factor, s.factor)
    if s.cuts:
        return f"{factor} (cut at {', '.join(f'{c:g}' for c in s.cuts)})"
    if s.groups:
        levels = "; ".join(f"{name}: {' or '.join(codes)}" for name, codes in s.groups.items())
        return f"{factor} ({levels})"
    return factor


def _randomization(r: Randomization | None) -> str:
    """How subjects are allocated, without what would let anyone foresee an allocation.

    >>> r = Randomization(block_sizes=(4, 6), slots_per_stratum=60,
    ...                   strata=(Stratum(factor="sex"),), blinding="double")
    >>> print(_randomization(r))  # doctest: +NORMALIZE_WHITESPACE
    permuted blocks of random sizes, stratified by sex on the baseline form; double-blind,
    with treatment-pack numbers
    """
    if r is None:
        return "none (not randomized)"
    if r.method == "permuted_blocks":
        how = "permuted blocks of random sizes"
    else:
        p = (r.minimization or Minimization()).probability
        how = f"Pocock–Simon minimization (the favoured arm given with probability {p:g})"
    strata = ", ".join(_stratum(s) for s in r.strata) or "nothing"
    blinding = "open" if r.blinding == "open" else f"{r.blinding}-blind"
    kits = "with" if r.kits else "without"
    return f"{how}, stratified by {strata}; {blinding}, {kits} treatment-pack numbers"


def _concealed(r: Randomization) -> tuple[Any, ...]:
    return (r.block_sizes, r.slots_per_stratum)


def _kit(t: Treatment | None) -> str:
    if t is None:
        return "none"
    return "; ".join(regimen.label for regimen in t.regimens())


@dataclass(frozen=True)
class VersionInForce:
    """An approved protocol version and the day it took effect (None: from the start),
    with its approval: what it changes in its author's words, who approved it, when and
    why, and whether subjects had to consent again."""

    version: str
    effective_on: date | None
    protocol: Protocol
    summary: str = ""
    approved_by: str = ""
    approved_at: str = ""
    reason: str = ""
    reconsent: bool = False


@dataclass(frozen=True)
class ProtocolHistory:
    """The approved versions of a study's protocol, oldest first.

    Examples
    --------
    >>> from pustula.demo import demo_protocol_file
    >>> from pustula.protocol import load_protocol
    >>> v1 = load_protocol(demo_protocol_file())
    >>> w12 = v1.visit("W12").model_copy(update={"window_before": 3, "window_after": 3})
    >>> v2 = v1.model_copy(update={"version": "1.1", "visits": (*v1.visits[:3], w12)})
    >>> history = ProtocolHistory((VersionInForce("1.0", None, v1),
    ...                            VersionInForce("1.1", date(2024, 6, 20), v2)))
    >>> [history.in_force_on(date(2024, 6, d)).version for d in (19, 20)]
    ['1.0', '1.1']
    """

    versions: tuple[VersionInForce, ...]

    @classmethod
    def single(cls, protocol: Protocol) -> ProtocolHistory:
        return cls((VersionInForce(protocol.version, None, protocol),))

    @property
    def amendments(self) -> tuple[tuple[VersionInForce, tuple[ProtocolChange, ...]], ...]:
        """Each approved amendment (every version after the first) with its changes."""
        return tuple((after, diff_protocols(before.protocol, after.protocol))
                     for before, after in itertools.pairwise(self.versions))  # fmt: skip

    @property
    def current(self) -> VersionInForce:
        return self.versions[-1]

    def in_force_on(self, day: date | None) -> VersionInForce:
        """The version in force on ``day`` (the current one when there is no date)."""
        if day is None:
            return self.current
        found = self.versions[0]
        for v in self.versions:
            if v.effective_on is None or v.effective_on <= day:
                found = v
        return found

    def window_of(self, code: str, day: date | None) -> tuple[Visit | None, str]:
        """The plan of visit ``code`` in force on ``day``, and that version; the current
        plan when the visit was not in the version then in force (recorded before its
        amendment was approved, say)."""
        version = self.in_force_on(day)
        for candidate in (version, self.current):
            for visit in candidate.protocol.visits:
                if visit.code == code:
                    return visit, candidate.version
        return None, version.version

    def planned_since(self, code: str) -> date | None:
        """When visit ``code`` joined the schedule without leaving it since: None when
        it has been planned from the start (or is not planned now).

        >>> from pustula.demo import demo_protocol_file
        >>> from pustula.protocol import load_protocol
        >>> ProtocolHistory.single(load_protocol(demo_protocol_file())).planned_since("W4") is None
        True
        """
        since = None
        for v in self.versions:
            if any(visit.code == code for visit in v.protocol.visits):
                if since is None:
                    since = v.effective_on or date.min
            else:
                since = None
        return None if since in (None, date.min) else since


@dataclass(frozen=True)
class ConsentState:
    """A subject's informed consents: to the version in force on the day of screening,
    then each later one (version, day), and the approved version still owed, if any."""

    at_screening: str
    later: tuple[tuple[str, date], ...] = ()
    owed: str | None = None
    owed_since: date | None = None

    @property
    def consented_to(self) -> str:
        """The version of the subject's latest consent."""
        return self.later[-1][0] if self.later else self.at_screening


def consent_state(
    screened_on: date,
    consents: Sequence[tuple[str, date]],
    approved: Sequence[tuple[str, date | None, bool]],
    *,
    in_study: bool,
) -> ConsentState:
    """Which versions the subject consented to, and which one they still owe.

    ``consents`` are the recorded new consents (version, day) in the order given;
    ``approved`` the study's approved versions (version, effective day, whether subjects
    had to consent again), oldest first. The first consent is the screening's, to the
    version then in force. A subject still in the study owes the latest approved version
    that asked for new consent and took effect after their screening, unless they already
    consented to it or to a later one (decision 0020).

    Examples
    --------
    >>> approved = [("1.0", None, False), ("1.1", date(2024, 6, 20), True)]
    >>> consent_state(date(2024, 3, 1), [], approved, in_study=True)
    ConsentState(at_screening='1.0', later=(), owed='1.1', owed_since=datetime.date(2024, 6, 20))
    >>> consent_state(date(2024, 3, 1), [("1.1", date(2024, 6, 25))], approved,
    ...               in_study=True).owed is None
    True
    >>> consent_state(date(2024, 7, 1), [], approved, in_study=True)
    ConsentState(at_screening='1.1', later=(), owed=None, owed_since=None)
    """
    order = [version for version, _, _ in approved]
    at_screening = order[0] if order else ""
    for version, effective_on, _ in approved:
        if effective_on is None or effective_on <= screened_on:
            at_screening = version
    state = ConsentState(at_screening, tuple(consents))
    needed = [(version, effective_on) for version, effective_on, again in approved
              if again and (effective_on is None or effective_on > screened_on)]  # fmt: skip
    if not in_study or not needed or state.consented_to not in order:
        return state
    target, since = needed[-1]
    if order.index(state.consented_to) < order.index(target):
        return ConsentState(at_screening, tuple(consents), target, since)
    return state
