"""Allocation lists and minimization, checked on 10,000+ simulated allocations each.

Tolerances are worked out in each test: a permuted-block list is balanced at every block
end, so within a stratum no arm is ever more than half the largest block away from its
share; minimization with a random element keeps the ratio within the binomial tolerance
(three standard errors of a proportion, sqrt(p(1-p)/n)).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

import pytest

from pustula.demo import trial_protocol
from pustula.protocol import Protocol
from pustula.protocol.randomization import Randomization, Stratum
from pustula.randomization import (
    Minimizer,
    RandomStream,
    Slot,
    allocation_list,
    kit_numbers,
    minimization_protocol,
    strata,
)

SEED = "5e" * 32
SITES = ["SITE1", "SITE2"]


def _design() -> Randomization:
    randomization = trial_protocol().randomization
    assert randomization is not None
    return randomization


def _long_list_protocol(slots: int = 10_002) -> Protocol:
    return trial_protocol().model_copy(update={"randomization": _design().model_copy(
        update={"slots_per_stratum": slots})})  # fmt: skip


def test_the_same_seed_gives_the_same_list_and_another_seed_another() -> None:
    p = trial_protocol()
    assert allocation_list(p, SEED, SITES) == allocation_list(p, SEED, SITES)
    other = allocation_list(p, "5f" * 32, SITES)
    assert [s.arm for s in other] != [s.arm for s in allocation_list(p, SEED, SITES)]


def test_every_stratum_gets_its_own_list_of_the_protocols_length() -> None:
    p = trial_protocol()
    slots = allocation_list(p, SEED, SITES)
    by_stratum = Counter(s.stratum for s in slots)
    assert sorted(by_stratum) == sorted(strata(_design(), SITES))
    assert set(by_stratum.values()) == {60}


def test_kit_numbers_are_distinct_six_digit_numbers() -> None:
    slots = allocation_list(trial_protocol(), SEED, SITES)
    kits = [s.kit for s in slots]
    assert len(set(kits)) == len(kits) == 240
    assert all(k is not None and 100_000 <= k <= 999_999 for k in kits)


def test_blocks_hold_the_ratio_and_never_stray_more_than_half_the_largest_block() -> None:
    slots = allocation_list(_long_list_protocol(), SEED, ["SITE1"])
    largest = max(_design().block_sizes)  # 6
    for name in {s.stratum for s in slots}:
        arms = [s.arm for s in slots if s.stratum == name]
        assert len(arms) >= 10_000
        tofa = 0
        for n, arm in enumerate(arms, start=1):
            tofa += arm == "TOFA5"
            # 2:1: TOFA's expected count after n is 2n/3
            assert abs(tofa - 2 * n / 3) <= largest / 2
        # each block is complete and in the ratio
        blocks: dict[int, list[str]] = {}
        for s in (s for s in slots if s.stratum == name):
            blocks.setdefault(s.block, []).append(s.arm)
        complete = list(blocks.values())[:-1]
        assert all(b.count("TOFA5") == 2 * b.count("PLCB") for b in complete)


def test_both_block_sizes_are_drawn_about_equally_often() -> None:
    slots = allocation_list(_long_list_protocol(), SEED, ["SITE1"])
    starts = Counter({b: 0 for b in (3, 6)})
    seen = set()
    for s in slots:
        if (s.stratum, s.block) not in seen:
            seen.add((s.stratum, s.block))
            starts[s.block_size] += 1
    n = sum(starts.values())
    # each size with probability 1/2: within 4 standard errors
    assert abs(starts[3] / n - 0.5) <= 4 * math.sqrt(0.25 / n), starts


Rule = Callable[[list[Slot], int | None], str]


def _blinded_guess_accuracy(rule: Rule) -> tuple[float, float]:
    slots = allocation_list(_long_list_protocol(), SEED, ["SITE1"])
    stratum = slots[0].stratum
    seq = [s for s in slots if s.stratum == stratum]
    hits = sum(rule(seq[:i], seq[i].kit) == seq[i].arm for i in range(1, len(seq)))
    return hits / (len(seq) - 1), len(seq) - 1


@pytest.mark.parametrize(
    "rule",
    [
        # what a blinded user sees is the kit numbers, in order
        lambda before, kit: "TOFA5" if (kit or 0) % 2 else "PLCB",
        lambda before, kit: "TOFA5" if (kit or 0) > 550_000 else "PLCB",
        lambda before, kit: "TOFA5" if (kit or 0) > (before[-1].kit or 0) else "PLCB",
        lambda before, kit: "PLCB" if len(before) % 3 == 2 else "TOFA5",
    ],
    ids=["kit parity", "kit size", "kit rising", "position in a block of three"],
)
def test_a_blinded_user_predicts_the_next_arm_no_better_than_always_guessing_the_larger_arm(
    rule: Rule,
) -> None:
    accuracy, n = _blinded_guess_accuracy(rule)
    chance = 2 / 3  # always guessing TOFA
    assert accuracy <= chance + 3 * math.sqrt(chance * (1 - chance) / n)


def test_a_user_who_saw_the_arms_so_far_would_do_better_so_the_test_above_can_fail() -> None:
    # the "convergence" strategy: guess the arm that is short of its share in the stratum
    def unblinded(before: list[Slot], kit: int | None) -> str:
        tofa = sum(s.arm == "TOFA5" for s in before)
        return "TOFA5" if tofa < 2 * len(before) / 3 + 2 / 3 else "PLCB"

    accuracy, n = _blinded_guess_accuracy(unblinded)
    assert accuracy > 2 / 3 + 3 * math.sqrt((2 / 9) / n)


def test_minimization_keeps_the_ratio_within_its_binomial_tolerance_and_the_factors_balanced() -> (
    None
):
    p = minimization_protocol(trial_protocol())
    m = Minimizer(p, SEED)
    patients = RandomStream("11" * 32, "patients")
    arms: list[str] = []
    margins: Counter[tuple[str, str, str]] = Counter()
    for number in range(1, 10_001):
        levels = {"site": SITES[patients.below(2)],
                  "smoking": "ever" if patients.uniform() < 0.7 else "never"}  # fmt: skip
        arm = m.next_arm(number, levels)
        m.add(levels, arm)
        arms.append(arm)
        for factor, level in levels.items():
            margins[(factor, level, arm)] += 1
    n, share = len(arms), arms.count("TOFA5") / len(arms)
    assert abs(share - 2 / 3) <= 3 * math.sqrt((2 / 9) / n)
    for factor, level in {(f, lv) for f, lv, _ in margins}:
        t, pb = margins[(factor, level, "TOFA5")], margins[(factor, level, "PLCB")]
        # each margin's TOFA count stays near twice its placebo count: within a few subjects
        assert abs(t - 2 * pb) <= 12, (factor, level, t, pb)


def test_minimization_is_reproducible_from_the_seed_and_the_order() -> None:
    p = minimization_protocol(trial_protocol())
    visits = [{"site": SITES[i % 2], "smoking": ("ever", "never")[i % 3 == 0]} for i in range(200)]

    def run() -> list[str]:
        m, out = Minimizer(p, SEED), []
        for number, levels in enumerate(visits, start=1):
            out.append(m.next_arm(number, levels))
            m.add(levels, out[-1])
        return out

    assert run() == run()


def test_the_random_element_gives_the_other_arm_about_one_time_in_five() -> None:
    p = minimization_protocol(trial_protocol())
    m = Minimizer(p, SEED)
    # after two TOFA subjects at SITE1, placebo is the balancing arm for a third
    levels = {"site": "SITE1", "smoking": "ever"}
    m.add(levels, "TOFA5")
    m.add(levels, "TOFA5")
    n = 10_000
    other = sum(m.next_arm(k, levels) == "TOFA5" for k in range(3, 3 + n))
    # with probability 0.8 placebo; TOFA (the only other arm) with 0.2
    assert abs(other / n - 0.2) <= 4 * math.sqrt(0.16 / n)


def test_kit_numbers_past_the_six_digit_range_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        kit_numbers(SEED, 900_001)


def test_a_stratum_on_the_baseline_pppasi_splits_by_its_cuts() -> None:
    r = _design().model_copy(update={"strata": (Stratum(factor="pppasi_band", cuts=(20,)),)})
    assert strata(r, SITES) == ["< 20", "≥ 20"]
