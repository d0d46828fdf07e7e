"""What a caller may save, validated at the boundary (pydantic, unknown keys refused).

The same models serve the Python API, the CLI's JSON input, the demo and the web API.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from pustula.checks.adverse_events import adverse_event_problems
from pustula.checks.values import (
    check_date,
    check_interval,
    check_lab_value,
    check_text,
    check_unique,
)
from pustula.checks.vocabulary import codes
from pustula.errors import DataValidationError

__all__ = [
    "AdverseEventIn",
    "BaselineIn",
    "ConMedIn",
    "ExposureIn",
    "LabIn",
    "PriorTherapyIn",
    "parse_input",
    "plain_message",
]

M = TypeVar("M", bound=BaseModel)

Smoking = Literal["never", "current", "former", "unknown"]
TRIGGERS = codes("trigger")
COMORBIDITIES = codes("comorbidity")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _date_gate(value: date, info: ValidationInfo) -> date:
    return check_date(value, field=info.field_name or "date")


def _text(max_length: int, *, multiline: bool = False) -> Any:
    def gate(value: str, info: ValidationInfo) -> str:
        return check_text(
            value, field=info.field_name or "text", max_length=max_length, multiline=multiline
        )

    return AfterValidator(gate)


#: A date of something that happened (or is planned within a year): the gate's window.
Day = Annotated[date, AfterValidator(_date_gate)]
#: A number: finite (the model refuses NaN and infinity), never a boolean.
Number = Annotated[float, BeforeValidator(_no_bool)]
Whole = Annotated[int, BeforeValidator(_no_bool)]
Name = Annotated[str, Field(min_length=1), _text(100)]
Term = Annotated[str, Field(min_length=1), _text(200)]
Code = Annotated[str, _text(40)]


class BaselineIn(_In):
    age: Whole = Field(ge=0, le=120)
    sex: Literal["female", "male", "other", "unknown"]
    disease_duration_months: Number = Field(ge=0, le=1200)
    eraspen_ppp: bool
    smoking: Smoking
    pack_years: Number | None = Field(default=None, ge=0, le=200)
    triggers: list[Literal[TRIGGERS]] = []  # type: ignore[valid-type]
    comorbidities: list[Literal[COMORBIDITIES]] = []  # type: ignore[valid-type]
    screening: dict[str, Literal["negative", "positive", "indeterminate", "not_done"]] = {}

    @model_validator(mode="after")
    def _consistent(self) -> BaselineIn:
        if self.pack_years and self.smoking == "never":
            raise DataValidationError(
                "pack_years: pack-years are given for a subject who never smoked",
                field="pack_years",
            )
        check_unique(self.triggers, field="triggers")
        check_unique(self.comorbidities, field="comorbidities")
        return self


class PriorTherapyIn(_In):
    category: Literal["topical", "phototherapy", "systemic", "biologic"]
    drug: Name
    response: Literal["none", "partial", "intolerant", "good", "unknown"]


class ExposureIn(_In):
    drug: Name
    dose: Number = Field(gt=0, le=100_000)
    unit: Annotated[str, Field(min_length=1), _text(20)]
    frequency: Annotated[str, Field(min_length=1), _text(40)]
    start_date: Day
    end_date: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ExposureIn:
        check_interval(self.start_date, self.end_date)
        return self


class AdverseEventIn(_In):
    term: Term
    meddra_pt_code: Code | None = None
    meddra_pt: Term | None = None
    meddra_soc_code: Code | None = None
    meddra_soc: Term | None = None
    start_date: Day
    end_date: Day | None = None
    grade: Whole
    serious: bool = False
    serious_criteria: list[Annotated[str, _text(40)]] = []
    relatedness: Annotated[str, _text(40)]
    action_taken: Annotated[str, _text(40)]
    outcome: Annotated[str, _text(40)]
    worsened_on_treatment: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> AdverseEventIn:
        # every cross-field rule at once, so that a form shows them together
        found = adverse_event_problems(self.model_dump())
        try:
            check_unique(self.serious_criteria, field="serious_criteria")
        except DataValidationError as exc:
            found.setdefault("serious_criteria", exc.message)
        if found:
            first = next(iter(found))
            raise DataValidationError(found[first], field=first, errors=found)
        return self


class LabIn(_In):
    test: Annotated[str, Field(min_length=1), _text(40)]
    value: Number
    unit: Annotated[str, Field(min_length=1), _text(20)]
    lower_limit: Number | None = None
    upper_limit: Number | None = None
    sample_date: Day

    @model_validator(mode="after")
    def _plausible(self) -> LabIn:
        check_lab_value(self.test, self.unit, self.value)
        for name in ("lower_limit", "upper_limit"):
            limit = getattr(self, name)
            if limit is not None:
                check_lab_value(self.test, self.unit, limit, field=name)
        low, high = self.lower_limit, self.upper_limit
        if low is not None and high is not None and low > high:
            raise DataValidationError(
                "upper_limit: the upper limit of normal is below the lower limit",
                field="upper_limit",
            )
        return self


class ConMedIn(_In):
    drug: Name
    indication: Term
    dose: Annotated[str, _text(100)] = ""
    start_date: Day | None = None
    end_date: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ConMedIn:
        check_interval(self.start_date, self.end_date)
        return self


def plain_message(error: Mapping[str, Any]) -> str:
    """A pydantic error in the words a person reads (never the library's own text)."""
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "is required"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "enter a whole number"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "enter a number"
    if kind in ("bool_parsing", "bool_type"):
        return "answer yes or no"
    if kind in ("date_parsing", "date_type", "date_from_datetime_parsing"):
        return "enter a date as YYYY-MM-DD"
    if kind == "literal_error":
        return "choose one of the listed options"
    if kind in ("list_type", "dict_type", "model_type", "string_type"):
        return "is not in the expected form"
    if kind == "extra_forbidden":
        return "is not a field of this form"
    bounds = {
        "greater_than_equal": ("must be at least", "ge"),
        "less_than_equal": ("must be at most", "le"),
        "greater_than": ("must be more than", "gt"),
        "less_than": ("must be less than", "lt"),
        "string_too_long": ("must be at most", "max_length"),
    }  # fmt: skip
    if kind in bounds:
        words, key = bounds[kind]
        unit = " characters" if kind == "string_too_long" else ""
        return f"{words} {ctx.get(key)}{unit}"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def _where(loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    # an item of a list is reported on the list ("comorbidities", not "comorbidities.0")
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return ".".join(parts) or model.__name__


def parse_input(model: type[M], data: Mapping[str, Any] | M) -> M:
    """Validate ``data`` into ``model`` or raise one :class:`DataValidationError`.

    The error's message names the first field that is wrong; ``errors`` holds every
    field's message, so that a form can show them all at once.
    """
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            where = _where(error["loc"], model)
            cause = (error.get("ctx") or {}).get("error")
            if isinstance(cause, DataValidationError):
                for field, text in (cause.errors or {cause.field or where: cause.message}).items():
                    errors.setdefault(field, text)
                continue
            errors.setdefault(where, f"{where}: {plain_message(error)}")
        first = next(iter(errors))
        raise DataValidationError(errors[first], field=first, errors=errors) from exc
