"""How a randomized protocol allocates its arms: the ``randomization:`` block of a protocol.

The method is either permuted blocks with randomly varying block sizes, stratified by
factors that point at recorded data, or Pocock–Simon minimization over the same factors
with a random element. :func:`design_problems` names every inconsistency between the block
and the arms at once (a ratio that no block size fits, a stratum that no recorded field
fills, a grouping that leaves a recorded answer out).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class ArmLike(Protocol):
    """What the randomization block needs of an arm (``pustula.protocol.model.Arm``, which
    imports this module)."""

    @property
    def code(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def ratio(self) -> int: ...


A = TypeVar("A", bound=ArmLike)

__all__ = [
    "FACTORS",
    "POOLED_ARM",
    "RECORDED_CODES",
    "Blinding",
    "Minimization",
    "Randomization",
    "Stratum",
    "are_pooled",
    "design_problems",
    "pooled_arms",
]

Blinding = Literal["open", "single", "double"]
Factor = Literal["site", "sex", "smoking", "pppasi_band"]

#: What each stratification factor reads: the subject's site, the baseline form's sex or
#: smoking answer, or the baseline visit's PPPASI total.
FACTORS: dict[str, str] = {
    "site": "the subject's site",
    "sex": "sex on the baseline form",
    "smoking": "smoking status on the baseline form",
    "pppasi_band": "the PPPASI total at the baseline visit",
}

#: The answers the baseline form records for the coded factors (the codelists of
#: :mod:`pustula.checks.vocabulary`; a test keeps them equal).
RECORDED_CODES: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male", "other", "unknown"),
    "smoking": ("never", "current", "former", "unknown"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Stratum(_Strict):
    """One stratification factor.

    ``groups`` pools recorded answers into levels (``{ever: [current, former]}``); without
    it each answer is a level of its own. ``cuts`` splits the baseline PPPASI (``[20]``
    gives ``< 20`` and ``≥ 20``).

    Examples
    --------
    >>> Stratum(factor="pppasi_band", cuts=(20,)).factor
    'pppasi_band'
    """

    factor: Factor
    groups: dict[str, tuple[str, ...]] = {}
    cuts: tuple[float, ...] = ()


class Minimization(_Strict):
    """Pocock–Simon: the arm that least unbalances the factors is given with ``probability``,
    another arm otherwise (the random element that keeps the next arm unguessable).

    Examples
    --------
    >>> Minimization().probability
    0.8
    """

    probability: float = Field(default=0.8, gt=0.5, lt=1)


class Randomization(_Strict):
    """The ``randomization:`` block.

    ``block_sizes`` are the sizes a block is drawn from at random (each a multiple of the
    arms' ratio sum); they are secret from blinded users. ``slots_per_stratum`` is the
    length of each stratum's allocation list.

    Examples
    --------
    >>> r = Randomization(block_sizes=(3, 6), slots_per_stratum=60, blinding="double")
    >>> r.method, r.kits
    ('permuted_blocks', True)
    """

    method: Literal["permuted_blocks", "minimization"] = "permuted_blocks"
    block_sizes: tuple[int, ...] = ()
    slots_per_stratum: int = Field(default=0, ge=0, le=100_000)
    strata: tuple[Stratum, ...] = ()
    minimization: Minimization | None = None
    blinding: Blinding
    #: Blinded supply: every allocation carries a treatment-pack number that says nothing
    #: of the arm.
    kits: bool = True

    @property
    def blinded(self) -> bool:
        return self.blinding != "open"


def design_problems(randomization: Randomization, arms: Sequence[ArmLike]) -> list[str]:
    """Every inconsistency of ``randomization`` with the arms, in words.

    Examples
    --------
    >>> from pustula.protocol.model import Arm
    >>> arms = [Arm(code="T", label="Active", ratio=2), Arm(code="P", label="Placebo")]
    >>> design_problems(Randomization(block_sizes=(4,), slots_per_stratum=8,
    ...                               blinding="double"), arms)
    ['block size 4 does not fit the allocation ratio 2:1 (a block must be a multiple of 3)']
    """
    problems: list[str] = []
    if len(arms) < 2:
        problems.append("a randomized study needs at least two arms")
    total = sum(a.ratio for a in arms)
    ratio = ":".join(str(a.ratio) for a in arms)
    if randomization.method == "permuted_blocks":
        if not randomization.block_sizes:
            problems.append("permuted blocks need `block_sizes`")
        for size in randomization.block_sizes:
            if size % total:
                problems.append(
                    f"block size {size} does not fit the allocation ratio {ratio} "
                    f"(a block must be a multiple of {total})"
                )
        largest = max(randomization.block_sizes, default=0)
        if randomization.slots_per_stratum < largest:
            problems.append(
                f"`slots_per_stratum` ({randomization.slots_per_stratum}) must hold at least "
                f"one block of the largest size ({largest})"
            )
        if randomization.minimization is not None:
            problems.append("`minimization` settings apply only to `method: minimization`")
    else:
        if randomization.block_sizes:
            problems.append("minimization has no blocks: remove `block_sizes`")
        if not randomization.strata:
            problems.append("minimization needs at least one factor in `strata`")
    seen: set[str] = set()
    for stratum in randomization.strata:
        if stratum.factor in seen:
            problems.append(f"stratification factor `{stratum.factor}` is listed twice")
        seen.add(stratum.factor)
        problems += _stratum_problems(stratum)
    return problems


def _stratum_problems(stratum: Stratum) -> list[str]:
    name = stratum.factor
    if name == "pppasi_band":
        if stratum.groups:
            return ["the PPPASI band is split by `cuts`, not `groups`"]
        if not stratum.cuts:
            return ["the PPPASI band needs `cuts` (e.g. [20] for < 20 and ≥ 20)"]
        if list(stratum.cuts) != sorted(set(stratum.cuts)) or not all(
            0 < c <= 72 for c in stratum.cuts
        ):
            return ["PPPASI band `cuts` must rise strictly, each above 0 and at most 72"]
        return []
    if stratum.cuts:
        return [f"`cuts` apply only to the PPPASI band, not to `{name}`"]
    codes = RECORDED_CODES.get(name)
    if codes is None or not stratum.groups:
        return []  # sites are the study's own; ungrouped answers are levels themselves
    grouped = [c for members in stratum.groups.values() for c in members]
    problems = [
        f"`{name}` group answer `{c}` is not recorded (known: {', '.join(codes)})"
        for c in grouped
        if c not in codes
    ]
    problems += [f"`{name}` answer `{c}` is in more than one group"
                 for c in sorted({c for c in grouped if grouped.count(c) > 1})]  # fmt: skip
    problems += [f"`{name}` answer `{c}` is in no group" for c in codes if c not in grouped]
    return problems


#: The one arm a blinded reader's copy of a blinded trial's protocol has.
POOLED_ARM = {"code": "BLINDED", "label": "Blinded treatment (arms pooled)"}


def pooled_arms(arms: Sequence[A]) -> tuple[A, ...]:
    """The arms as a blinded reader's exports and reports show them: one pooled arm, so that
    no arm code, label or treatment reaches them (the protocol document names the arms).

    Examples
    --------
    >>> from pustula.protocol.model import Arm
    >>> [a.code for a in pooled_arms([Arm(code="T", label="Active"), Arm(code="P", label="Pbo")])]
    ['BLINDED']
    """
    arm_type = type(arms[0])
    return (arm_type(**POOLED_ARM),)


def are_pooled(arms: Sequence[ArmLike]) -> bool:
    """Whether ``arms`` are a blinded reader's one pooled arm (:func:`pooled_arms`).

    >>> from pustula.protocol.model import Arm
    >>> arms = [Arm(code="T", label="Active"), Arm(code="P", label="Pbo")]
    >>> are_pooled(arms), are_pooled(pooled_arms(arms))
    (False, True)
    """
    return {a.code for a in arms} == {POOLED_ARM["code"]}
