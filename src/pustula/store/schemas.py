"""What a caller may save, validated at the boundary (pydantic, unknown keys refused).

The same models serve the Python API, the CLI's JSON input, the demo and the web API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pustula.errors import DataValidationError

__all__ = [
    "AdverseEventIn",
    "BaselineIn",
    "ConMedIn",
    "ExposureIn",
    "LabIn",
    "PriorTherapyIn",
    "parse_input",
]

M = TypeVar("M", bound=BaseModel)

Smoking = Literal["never", "current", "former", "unknown"]
TRIGGERS = (
    "smoking", "focal_infection_tonsillitis", "focal_infection_dental",
    "focal_infection_sinus", "metal_allergy", "stress", "other",
)  # fmt: skip
COMORBIDITIES = (
    "psoriasis_vulgaris", "pustular_psoriasis_elsewhere", "pustulotic_arthro_osteitis",
    "sapho", "thyroid_disease", "diabetes", "dyslipidaemia", "hypertension", "other",
)  # fmt: skip


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class BaselineIn(_In):
    age: int = Field(ge=0, le=120)
    sex: Literal["female", "male", "other", "unknown"]
    disease_duration_months: float = Field(ge=0, le=1200)
    eraspen_ppp: bool
    smoking: Smoking
    pack_years: float | None = Field(default=None, ge=0, le=200)
    triggers: list[Literal[TRIGGERS]] = []  # type: ignore[valid-type]
    comorbidities: list[Literal[COMORBIDITIES]] = []  # type: ignore[valid-type]
    screening: dict[str, Any] = {}

    @model_validator(mode="after")
    def _pack_years_need_smoking(self) -> BaselineIn:
        if self.pack_years and self.smoking == "never":
            raise ValueError("pack_years are given for a subject who never smoked")
        return self


class PriorTherapyIn(_In):
    category: Literal["topical", "phototherapy", "systemic", "biologic"]
    drug: str = Field(min_length=1, max_length=100)
    response: Literal["none", "partial", "intolerant", "good", "unknown"]


class ExposureIn(_In):
    drug: str = Field(min_length=1, max_length=100)
    dose: float = Field(gt=0)
    unit: str = Field(min_length=1, max_length=20)
    frequency: str = Field(min_length=1, max_length=40)
    start_date: date
    end_date: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ExposureIn:
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class AdverseEventIn(_In):
    term: str = Field(min_length=1, max_length=200)
    meddra_pt_code: str | None = None
    meddra_pt: str | None = None
    meddra_soc_code: str | None = None
    meddra_soc: str | None = None
    start_date: date
    end_date: date | None = None
    grade: int
    serious: bool = False
    serious_criteria: list[str] = []
    relatedness: str
    action_taken: str = "none"
    outcome: str
    worsened_on_treatment: bool = False


class LabIn(_In):
    test: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    value: float
    unit: str = Field(min_length=1, max_length=20)
    lower_limit: float | None = None
    upper_limit: float | None = None
    sample_date: date


class ConMedIn(_In):
    drug: str = Field(min_length=1, max_length=100)
    indication: str = Field(min_length=1, max_length=200)
    dose: str = ""
    start_date: date | None = None
    end_date: date | None = None


def parse_input(model: type[M], data: Mapping[str, Any] | M) -> M:
    """Validate ``data`` into ``model`` or raise one :class:`DataValidationError`."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or model.__name__
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise DataValidationError(f"{where}: {first['msg']}{more}", field=where) from exc
