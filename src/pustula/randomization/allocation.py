"""Allocation lists (permuted blocks of random sizes) and minimization, from a seed.

Both are pure: the same protocol, sites and seed give the same list, which is how the
statistician and an auditor reproduce it. Kit numbers are drawn from the seed as well,
independently of the arms, so that a kit number says nothing of its arm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pustula.protocol.model import Protocol
from pustula.protocol.randomization import Randomization
from pustula.randomization.strata import strata
from pustula.randomization.stream import RandomStream

__all__ = [
    "KIT_DIGITS",
    "Minimizer",
    "Slot",
    "allocation_list",
    "kit_numbers",
    "minimization_protocol",
]

#: Kit numbers have six digits: from 100000 to 999999.
KIT_DIGITS = 6


@dataclass(frozen=True)
class Slot:
    """One place in a stratum's allocation list: its position (from 1), the block it is in
    and that block's size, the arm, and the kit number."""

    stratum: str
    position: int
    block: int
    block_size: int
    arm: str
    kit: int | None


def _protocol_randomization(protocol: Protocol) -> Randomization:
    if protocol.randomization is None:
        raise ValueError(f"protocol {protocol.id} is not randomized")
    return protocol.randomization


def kit_numbers(seed: str, count: int) -> list[int]:
    """``count`` distinct six-digit kit numbers in random order.

    Examples
    --------
    >>> kits = kit_numbers("ab" * 32, 1000)
    >>> len(set(kits)), min(kits) >= 100000, max(kits) <= 999999
    (1000, True, True)
    """
    stream, low = RandomStream(seed, "kits"), 10 ** (KIT_DIGITS - 1)
    span = 9 * low
    if count > span:
        raise ValueError(f"at most {span:,} kit numbers")
    chosen: dict[int, None] = {}
    while len(chosen) < count:
        chosen.setdefault(low + stream.below(span))
    return list(chosen)


def allocation_list(protocol: Protocol, seed: str, sites: Sequence[str]) -> list[Slot]:
    """Every stratum's list of permuted blocks, block sizes drawn at random.

    Examples
    --------
    >>> from pustula.demo import trial_protocol
    >>> slots = allocation_list(trial_protocol(), "cd" * 32, ["SITE1", "SITE2"])
    >>> first = [s for s in slots if s.stratum == slots[0].stratum][:6]
    >>> [s.position for s in first], first[0].block_size in (3, 6)
    ([1, 2, 3, 4, 5, 6], True)
    """
    randomization = _protocol_randomization(protocol)
    if randomization.method != "permuted_blocks":
        raise ValueError("minimization has no list: arms are given as subjects come")
    unit = [a.code for a in protocol.arms for _ in range(a.ratio)]
    names = strata(randomization, sites)
    per_stratum = randomization.slots_per_stratum
    kits = kit_numbers(seed, per_stratum * len(names)) if randomization.kits else None
    slots: list[Slot] = []
    for s, name in enumerate(names):
        stream = RandomStream(seed, "stratum " + name)
        arms: list[tuple[int, int, str]] = []
        block = 0
        while len(arms) < per_stratum:
            block += 1
            size = randomization.block_sizes[stream.below(len(randomization.block_sizes))]
            contents = unit * (size // len(unit))
            stream.shuffle(contents)
            arms += [(block, size, arm) for arm in contents]
        slots += [
            Slot(name, i + 1, b, size, arm,
                 kits[s * per_stratum + i] if kits is not None else None)
            for i, (b, size, arm) in enumerate(arms[:per_stratum])
        ]  # fmt: skip
    return slots


class Minimizer:
    """Pocock–Simon minimization with a random element, one subject after another.

    For each arm, the imbalance it would leave is the sum over factors of the range of the
    arms' counts at this subject's level, each count divided by the arm's ratio. The arm
    with the least is given with the protocol's probability (ties drawn in proportion to
    the ratios), another arm otherwise, in proportion to the ratios. The ``number``-th
    subject's draws come from the seed and that number alone, so that the sequence can be
    replayed from the allocations in order.

    Examples
    --------
    >>> from pustula.demo import trial_protocol
    >>> m = Minimizer(minimization_protocol(trial_protocol()), "ef" * 32)
    >>> arm = m.next_arm(1, {"site": "SITE1", "smoking": "ever"})
    >>> arm in ("TOFA5", "PLCB")
    True
    >>> m.add({"site": "SITE1", "smoking": "ever"}, arm)
    """

    def __init__(self, protocol: Protocol, seed: str) -> None:
        randomization = _protocol_randomization(protocol)
        if randomization.method != "minimization":
            raise ValueError("the protocol allocates by permuted blocks, not minimization")
        self._p = randomization.minimization.probability if randomization.minimization else 0.8
        self._seed = seed
        self._ratio = {a.code: a.ratio for a in protocol.arms}
        self._counts: dict[tuple[str, str], dict[str, int]] = {}

    def add(self, levels: Mapping[str, str], arm: str) -> None:
        """Count an allocation that was made."""
        for factor, level in levels.items():
            self._counts.setdefault((factor, level), dict.fromkeys(self._ratio, 0))[arm] += 1

    def _imbalance(self, levels: Mapping[str, str], candidate: str) -> float:
        total = 0.0
        for factor, level in levels.items():
            at = dict(self._counts.get((factor, level), dict.fromkeys(self._ratio, 0)))
            at[candidate] += 1
            weighted = [at[a] / r for a, r in self._ratio.items()]
            total += max(weighted) - min(weighted)
        return total

    def next_arm(self, number: int, levels: Mapping[str, str]) -> str:
        """The arm of the ``number``-th subject (from 1), with these levels."""
        stream = RandomStream(self._seed, f"minimization {number}")
        scores = {a: self._imbalance(levels, a) for a in self._ratio}
        best = [a for a in self._ratio if scores[a] == min(scores.values())]
        if len(best) == len(self._ratio) or stream.uniform() < self._p:
            return _by_ratio(stream, best, self._ratio)
        return _by_ratio(stream, [a for a in self._ratio if a not in best], self._ratio)


def minimization_protocol(protocol: Protocol) -> Protocol:
    """``protocol`` allocating by minimization over its strata instead of blocks (for
    examples and simulations)."""
    randomization = _protocol_randomization(protocol)
    return protocol.model_copy(update={"randomization": randomization.model_copy(
        update={"method": "minimization", "block_sizes": ()})})  # fmt: skip


def _by_ratio(stream: RandomStream, arms: Sequence[str], ratio: Mapping[str, int]) -> str:
    tickets = [a for a in arms for _ in range(ratio[a])]
    return tickets[stream.below(len(tickets))]
