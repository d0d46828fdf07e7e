"""Evidence synthesis: meta-analysis of published results, beside a study's own.

Pure functions: numbers in, typed results out. No database, no web.
"""

from pustula.evidence.glmm import glmm_proportions
from pustula.evidence.meta import (
    EffectSizes,
    MetaResult,
    escalc,
    leave_one_out,
    mantel_haenszel,
    rma,
    subgroups,
)

__all__ = ["EffectSizes", "MetaResult", "escalc", "glmm_proportions", "leave_one_out",
           "mantel_haenszel", "rma", "subgroups"]  # fmt: skip
