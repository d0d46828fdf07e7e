"""What an amendment changes in the study's design, in words, and what it never shows.

The trial protocol of the demo (synthetic) is amended one setting at a time; the expected
sentences are written out by hand from the protocol file's values.
"""

from __future__ import annotations

import re
from datetime import date

from pustula.demo import trial_protocol
from pustula.protocol import Protocol
from pustula.protocol.amendments import ConsentState, consent_state, diff_protocols
from pustula.protocol.model import Refractory, Treatment
from pustula.protocol.randomization import Minimization, Stratum


def _amended(**changes: object) -> Protocol:
    return trial_protocol().model_copy(update={"version": "2.1", **changes})


def _randomization(**changes: object) -> object:
    return trial_protocol().randomization.model_copy(update=changes)  # type: ignore[union-attr]


def _texts(new: Protocol) -> list[str]:
    return [c.text for c in diff_protocols(trial_protocol(), new)]


def test_a_wider_definition_of_refractory_reads_as_the_responses_that_count() -> None:
    new = _amended(refractory=Refractory(failed_responses=("none", "partial")))

    assert _texts(new) == [
        "Study definition of refractory changed: a prior therapy counts as failed after no "
        "response → a prior therapy counts as failed after no response or a partial response"
    ]


def test_a_new_stratification_factor_reads_with_its_levels() -> None:
    strata = (*trial_protocol().randomization.strata, Stratum(factor="pppasi_band", cuts=(20,)))  # type: ignore[union-attr]
    new = _amended(randomization=_randomization(strata=strata))

    (text,) = _texts(new)
    assert text == (
        "Study randomization changed: permuted blocks of random sizes, stratified by the "
        "subject's site, smoking status on the baseline form (never: never or unknown; ever: "
        "current or former); double-blind, with treatment-pack numbers → permuted blocks of "
        "random sizes, stratified by the subject's site, smoking status on the baseline form "
        "(never: never or unknown; ever: current or former), the PPPASI total at the baseline "
        "visit (cut at 20); double-blind, with treatment-pack numbers"
    )


def test_a_change_to_minimization_names_its_random_element() -> None:
    new = _amended(randomization=_randomization(
        method="minimization", block_sizes=(), minimization=Minimization(probability=0.75)))  # fmt: skip

    texts = _texts(new)

    assert "Pocock–Simon minimization (the favoured arm given with probability 0.75)" in texts[0]
    # the blocks are gone: that they changed is said, their sizes are not
    assert texts[1] == (
        "Study randomization block sizes or list length changed (not shown: concealed from "
        "blinded staff, so that no allocation can be foreseen)"
    )


def test_new_block_sizes_are_never_shown_to_anyone_reading_the_amendment() -> None:
    new = _amended(randomization=_randomization(block_sizes=(4, 8), slots_per_stratum=96))

    changes = diff_protocols(trial_protocol(), new)

    assert [c.change for c in changes] == ["concealed"]
    shown = " ".join(f"{c.text} {c.before} {c.after}" for c in changes)
    assert not re.search(r"\d", shown), shown


def test_the_blinded_kit_reads_as_the_choices_a_coordinator_is_offered() -> None:
    kit = Treatment(drug="tofacitinib or placebo (blinded)", dose=2, unit="tablet",
                    frequency="once daily")  # fmt: skip

    assert _texts(_amended(blinded_treatment=kit)) == [
        "Study blinded study drug changed: tofacitinib or placebo (blinded) 1 tablet twice "
        "daily (oral); tofacitinib or placebo (blinded) 1 tablet once daily (oral) → "
        "tofacitinib or placebo (blinded) 2 tablet once daily (oral)"
    ]


def test_no_change_reads_as_nothing() -> None:
    assert _texts(_amended()) == []


# -- who owes a new consent (decision 0020) ------------------------------------------------------
# Versions: 1.0 from the start; 1.1 from 20 Jun 2024 asking for new consent; 1.2 from
# 1 Sep 2024 not asking; 1.3 from 1 Nov 2024 asking again.
APPROVED = [
    ("1.0", None, False),
    ("1.1", date(2024, 6, 20), True),
    ("1.2", date(2024, 9, 1), False),
    ("1.3", date(2024, 11, 1), True),
]


def test_a_subject_screened_before_two_amendments_owes_the_latest_that_asks() -> None:
    state = consent_state(date(2024, 3, 1), [], APPROVED, in_study=True)

    assert (state.at_screening, state.consented_to) == ("1.0", "1.0")
    assert (state.owed, state.owed_since) == ("1.3", date(2024, 11, 1))


def test_a_consent_to_an_earlier_amendment_still_owes_the_later_one() -> None:
    state = consent_state(date(2024, 3, 1), [("1.1", date(2024, 6, 25))], APPROVED,
                          in_study=True)  # fmt: skip

    assert state.consented_to == "1.1" and state.owed == "1.3"


def test_a_subject_screened_under_a_version_consented_to_it_and_owes_only_what_came_after() -> None:
    # screened on 1 Oct 2024: version 1.2 was in force; 1.3 came after and asks
    assert consent_state(date(2024, 10, 1), [], APPROVED, in_study=True) == ConsentState(
        "1.2", (), "1.3", date(2024, 11, 1)
    )
    # screened on 2 Nov 2024: under 1.3 itself, nothing is owed
    assert consent_state(date(2024, 11, 2), [], APPROVED, in_study=True).owed is None


def test_a_subject_no_longer_in_the_study_owes_nothing_but_keeps_their_consents() -> None:
    consents = [("1.1", date(2024, 7, 2))]

    state = consent_state(date(2024, 3, 1), consents, APPROVED, in_study=False)

    assert state.owed is None and state.later == (("1.1", date(2024, 7, 2)),)


def test_a_changed_arm_of_a_blinded_trial_is_said_to_change_without_naming_any_arm() -> None:
    placebo = trial_protocol().arms[1]
    arms = (trial_protocol().arms[0], placebo.model_copy(update={"ratio": 2}))
    secrets = {a.code for a in arms} | {a.label for a in arms}

    changes = diff_protocols(trial_protocol(), _amended(arms=arms))

    assert [c.text for c in changes] == [
        "Arm definitions changed (not shown: the arms are concealed from blinded staff; the "
        "amended file names them)"
    ]
    assert not any(secret in f"{c.text}{c.before}{c.after}" for c in changes for secret in secrets)
