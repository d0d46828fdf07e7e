"""The analysis options in words, and how a run departs from the protocol's analysis plan."""

from __future__ import annotations

import pytest

from pustula.analysis.options import OPTIONS, Option, departures, fixed_by_plan, settings_with
from pustula.analysis.settings import AnalysisSettings
from pustula.demo import demo_protocol_file
from pustula.errors import AnalysisError
from pustula.protocol import Protocol, load_protocol


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_protocol(demo_protocol_file())


def test_every_option_is_an_analysis_setting_and_every_choice_a_valid_value() -> None:
    for option in OPTIONS:
        assert option.name in AnalysisSettings.model_fields
        for value, _ in option.choices:
            AnalysisSettings.build(**{option.name: value})  # raises if the value is refused


def test_a_choice_travels_through_a_form_and_back_unchanged() -> None:
    for option in OPTIONS:
        for value, _ in option.choices:
            assert option.choice(option.token(value)) == value
        assert option.choice("no such choice") is Option.UNKNOWN


def test_the_options_the_protocol_file_states_are_the_fixed_ones(protocol: Protocol) -> None:
    # the case series' file states every option but the two PGA restrictions
    assert fixed_by_plan(protocol) == {o.name for o in OPTIONS} - {
        "pga_baseline_min", "pga_min_improvement"}  # fmt: skip


def test_the_plan_itself_departs_from_nothing(protocol: Protocol) -> None:
    assert departures(settings_with(protocol, {}), protocol) == []
    assert departures(AnalysisSettings.from_protocol(protocol), protocol) == []


def test_departures_name_the_option_the_plan_and_the_choice(protocol: Protocol) -> None:
    chosen = settings_with(protocol, {"alpha": 0.1, "pga_baseline_min": 2})
    assert [str(d) for d in departures(chosen, protocol)] == [
        "Confidence level: 90% (the plan: 95%)",
        "PGA 0/1: who is counted: Only subjects with a baseline PGA of 2 or more "
        "(the plan: Every subject)",
    ]


def test_an_unusual_alpha_in_a_plan_is_still_said_in_words() -> None:
    assert OPTIONS[3].name == "alpha" and OPTIONS[3].words(0.02) == "98% CI"


def test_a_value_that_is_no_setting_is_refused_naming_the_option(protocol: Protocol) -> None:
    with pytest.raises(AnalysisError, match="imputation must be one of"):
        settings_with(protocol, {"imputation": "mean"})
