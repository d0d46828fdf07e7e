"""Randomization, pure: allocation lists by permuted blocks, minimization, kit numbers and
strata, all reproducible from a recorded seed (the store keeps them concealed)."""

from pustula.randomization.allocation import (
    Minimizer,
    Slot,
    allocation_list,
    kit_numbers,
    minimization_protocol,
)
from pustula.randomization.strata import factor_levels, level_of, levels_of, strata, stratum_name
from pustula.randomization.stream import RandomStream, new_seed

__all__ = [
    "Minimizer",
    "RandomStream",
    "Slot",
    "allocation_list",
    "factor_levels",
    "kit_numbers",
    "level_of",
    "levels_of",
    "minimization_protocol",
    "new_seed",
    "strata",
    "stratum_name",
]
