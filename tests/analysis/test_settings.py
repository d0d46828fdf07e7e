"""Analysis settings are validated where they enter: never a guess, never a silent default."""

from __future__ import annotations

import pytest

from pustula.analysis.settings import AnalysisSettings, confidence_label
from pustula.errors import AnalysisError
from pustula.protocol import load_protocol
from tests.store.helpers import PROTOCOL


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"operator": "=>"}, "operator must be one of '>=', '>'; got '=>'"),
        (
            {"imputation": "nri"},
            "imputation must be one of 'OC', 'LOCF', 'LOCF_BASELINE', 'NRI'; got 'nri'",
        ),
        (
            {"ci_method": "exact"},
            "ci_method must be one of 'clopper-pearson', 'wilson', 'jeffreys'",
        ),
        ({"alpha": 0.0}, "alpha: Input should be greater than 0"),
        ({"alpha": 1.0}, "alpha: Input should be less than 1"),
        ({"visit_windows": "nearest"}, "visit_windows must be one of 'nominal', 'protocol'"),
        ({"rounding": "up"}, "rounding must be one of 'half_up', 'half_even'"),
        ({"pga_baseline_min": 5}, "pga_baseline_min: Input should be less than or equal to 4"),
        ({"cutoffs": (0, 50)}, "cutoffs: cut-offs are whole percents from 1 to 100"),
        (
            {"posterior_prior": (0, 1)},
            "posterior_prior: a Beta prior needs two positive parameters",
        ),
        ({"endpoint_operator": ">"}, "endpoint_operator is not an analysis setting"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(values: dict[str, object], message: str) -> None:
    with pytest.raises(AnalysisError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        AnalysisSettings.build(**values)


def test_settings_are_frozen() -> None:
    settings = AnalysisSettings()
    with pytest.raises(ValueError, match="frozen"):
        settings.alpha = 0.1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("alpha", "label"), [(0.05, "95% CI"), (0.1, "90% CI"), (0.2, "80% CI"), (0.025, "97.5% CI")]
)
def test_the_interval_label_is_built_from_alpha(alpha: float, label: str) -> None:
    assert confidence_label(alpha) == label
    assert AnalysisSettings.build(alpha=alpha).level_label == label


def test_the_protocol_states_the_plan_and_options_override_it() -> None:
    protocol = load_protocol(PROTOCOL)
    plan = AnalysisSettings.from_protocol(protocol)
    assert (plan.operator, plan.baseline_zero, plan.visit_windows, plan.rounding) == (
        ">=", "not_evaluable", "nominal", "half_up",
    )  # fmt: skip
    assert {50, 80} <= set(plan.cutoffs)  # every endpoint's cut-off is derived
    changed = AnalysisSettings.from_protocol(protocol, operator=">", imputation=None)
    assert (changed.operator, changed.imputation) == (">", "OC")  # None keeps the plan's
