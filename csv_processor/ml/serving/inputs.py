"""Records (JSON objects, form fields or CSV cells) to the DataFrame a fitted pipeline takes, with checks.

The spec is built once per model version from the training schema and the dtypes of the raw columns
the pipeline was fitted on. Each request then costs one pass over the values in plain Python and one
DataFrame built from ready arrays: no per-row pandas work, which would cost more than a linear model.

Errors (a missing column, a wrong type, a non-finite number, a date column's value that is no date)
refuse the request with a message per field; surprises (an unseen category, a number far outside the
training range, a date that could be day/month or month/day) only warn.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd

from csv_processor.ml.training.preprocess import date_ambiguity, read_other_dates
from csv_processor.ml.types import DATE_FORMATS, parse_datetimes

ROLES = ("numeric", "categorical", "datetime", "text", "passthrough")
# A number this many training ranges beyond the training minimum or maximum is "far outside".
FAR_OUTSIDE = 0.5
MAX_MESSAGES = 50


class InputError(ValueError):
    """The records cannot be predicted; `errors` maps a field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in list(errors.items())[:5]))
        self.errors = errors


@dataclass(frozen=True)
class FieldSpec:
    """One raw input column. `passthrough` columns (the target, ids) are optional and never used."""

    name: str
    role: str
    kind: str
    dtype: str
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    median: float | None = None
    categories: tuple[str, ...] = ()
    complete: bool = False
    date_min: str | None = None
    date_max: str | None = None

    @property
    def reference(self) -> Any:
        """The value a feature is replaced by to measure its effect: median or most common category."""
        if self.role == "numeric":
            return self.median
        if self.role == "categorical" and self.categories:
            return self.categories[0]
        return None


@dataclass(frozen=True)
class InputSpec:
    fields: tuple[FieldSpec, ...]
    problem_type: str
    classes: tuple = ()
    by_name: dict[str, FieldSpec] = field(default_factory=dict, compare=False)

    @property
    def features(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.role != "passthrough")

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


@dataclass(frozen=True)
class PreparedRows:
    """The checked input columns (numpy or pandas arrays, in the pipeline's order) and per-row warnings.

    The DataFrame is built on first use: a compiled pipeline (compiled.py) reads the columns directly,
    and on one row building the frame would cost more than the model."""

    columns: dict[str, Any]
    warnings: list[list[str]]

    @cached_property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns, copy=False)


def build_input_spec(
    *, columns: list[str], dtypes: dict[str, str], feature_schema: dict, target: str, problem_type: str, classes: list
) -> InputSpec:
    """`columns`: the pipeline's input columns in order; `dtypes`: their training dtypes (as strings)."""
    fields = []
    needs_raw = any(name not in columns for name in feature_schema)
    for name in columns:
        schema = feature_schema.get(name)
        if schema is None or name == target:
            # A raw column the recipe turns into features (renamed, split) is needed but not described.
            required = needs_raw and name != target
            fields.append(
                FieldSpec(name, "passthrough" if not required else "text", "raw", dtypes.get(name, ""), required)
            )
            continue
        fields.append(_field(name, schema, dtypes.get(name, "")))
    spec = InputSpec(tuple(fields), problem_type, tuple(classes))
    spec.by_name.update({f.name: f for f in fields})
    return spec


def _field(name: str, schema: dict, dtype: str) -> FieldSpec:
    role = schema.get("role", "text")
    return FieldSpec(
        name=name,
        role=role if role in ROLES else "text",
        kind=schema.get("kind", role),
        dtype=dtype,
        required=True,
        minimum=schema.get("min") if role == "numeric" else None,
        maximum=schema.get("max") if role == "numeric" else None,
        median=schema.get("median") if role == "numeric" else None,
        categories=tuple(schema.get("categories") or ()),
        complete=role == "categorical" and not schema.get("more", False),
        date_min=schema.get("min") if role == "datetime" else None,
        date_max=schema.get("max") if role == "datetime" else None,
    )


def records_frame(spec: InputSpec, records: list, *, text_values: bool = False) -> PreparedRows:
    """The pipeline's input frame for `records` (dicts); raises InputError. `text_values` accepts numbers
    written as text (HTML forms, CSV bodies); JSON callers must send numbers as numbers."""
    if not isinstance(records, list) or not records:
        raise InputError({"records": ["Send a non-empty list of records."]})
    errors: dict[str, list[str]] = {}
    warnings: list[list[str]] = [[] for _ in records]
    columns: dict[str, list] = {f.name: [None] * len(records) for f in spec.fields}
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            errors[f"records[{index}]"] = ["Each record must be an object of column: value."]
            continue
        for spec_field in spec.fields:
            _read(spec_field, record, index, columns, errors, warnings[index], text_values)
        if len(errors) >= MAX_MESSAGES:
            break
    if errors:
        raise InputError(dict(list(errors.items())[:MAX_MESSAGES]))
    return PreparedRows({f.name: _column(f, columns[f.name]) for f in spec.fields}, warnings)


def _read(
    spec_field: FieldSpec,
    record: dict,
    index: int,
    columns: dict,
    errors: dict,
    warnings: list[str],
    text_values: bool,
) -> None:
    name = spec_field.name
    if name not in record:
        if spec_field.required:
            errors[f"records[{index}].{name}"] = ["This column is required (send null for a missing value)."]
        return
    value = record[name]
    if value is None:
        return
    if spec_field.role == "numeric":
        value = _number(value, text_values)
        if isinstance(value, str):
            errors[f"records[{index}].{name}"] = [value]
            return
        if value is not None:
            _warn_range(spec_field, value, warnings)
    elif isinstance(value, dict | list):
        errors[f"records[{index}].{name}"] = ["Expected a single value, not a list or an object."]
        return
    elif isinstance(value, float) and not math.isfinite(value):
        errors[f"records[{index}].{name}"] = ["NaN and infinities are not accepted; send null for a missing value."]
        return
    elif spec_field.role == "categorical":
        _warn_category(spec_field, value, warnings)
    elif spec_field.role == "datetime":
        problem = _date_problem(spec_field, value, warnings)
        if problem:
            errors[f"records[{index}].{name}"] = [problem]
            return
    columns[name][index] = value


def _number(value: Any, text_values: bool) -> float | str | None:
    """The number, None for blank text, or an error message (a str)."""
    if isinstance(value, bool):
        return "Expected a number, got true/false."
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:  # an integer of hundreds of digits
            return "Expected a finite number; this one is too large."
    elif isinstance(value, str) and text_values:
        if not value.strip():
            return None
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return f"Expected a number, got {value[:40]!r}."
    else:
        return f"Expected a number, got {type(value).__name__}."
    if not math.isfinite(number):
        return "NaN and infinities are not accepted; send null for a missing value."
    return number


def _warn_range(spec_field: FieldSpec, value: float, warnings: list[str]) -> None:
    low, high = spec_field.minimum, spec_field.maximum
    if low is None or high is None:
        return
    margin = FAR_OUTSIDE * max(high - low, abs(high), 1e-12)
    if value < low - margin or value > high + margin:
        warnings.append(
            f"{spec_field.name} = {value:g} is far outside the training range {low:g} to {high:g}; "
            "the prediction is an extrapolation."
        )


def _warn_category(spec_field: FieldSpec, value: Any, warnings: list[str]) -> None:
    if spec_field.complete and str(value) not in spec_field.categories:
        known = ", ".join(spec_field.categories[:10])
        warnings.append(f"{spec_field.name} = {str(value)[:40]!r} was not seen in training (known: {known}).")


def _date_problem(spec_field: FieldSpec, value: Any, warnings: list[str]) -> str | None:
    """An error message for a value that is no date at all; a warning for 03/04/2020, which could be
    either day first or month first. Blank text is a missing value, like null."""
    if isinstance(value, dt.date):  # datetime and pandas Timestamp too
        return None
    if not isinstance(value, str):
        return f"Expected a date as text, like 2020-07-15, got {type(value).__name__}."
    reading = _date_reading(value.strip())
    if reading == "none":
        return f"{value[:40]!r} is not a date; write it as YYYY-MM-DD, like 2020-07-15."
    if reading == "ambiguous":
        warnings.append(
            f"{spec_field.name} = {value[:40]!r} could be day/month or month/day: it is read the way the "
            "training file wrote dates, or as missing; write YYYY-MM-DD to be sure."
        )
    return None


@lru_cache(maxsize=4096)
def _date_reading(text: str) -> str:
    """ "date", "ambiguous" or "none" ("" is a missing value: "date"), by the date step's own readers so
    what passes here is what the model reads. Cached: a request's dates cost a dict lookup."""
    if not text:
        return "date"
    if read_other_dates(pd.Series([text])).notna().iloc[0]:
        return "date"
    if date_ambiguity(text) is not None:
        return "ambiguous"
    # A format a training file may have been learned in (all are read above today; this keeps it so).
    learned = tuple(fmt for fmt, _, _ in DATE_FORMATS)
    return "date" if parse_datetimes(pd.Series([text]), learned).notna().iloc[0] else "none"


def _column(spec_field: FieldSpec, values: list) -> Any:
    if spec_field.role == "passthrough":
        # Unused by the model (the target, dropped ids): the cheapest missing column there is.
        return np.full(len(values), np.nan) if all(v is None for v in values) else np.array(values, dtype=object)
    if spec_field.role == "numeric":
        return np.array(values, dtype="float64")
    if spec_field.dtype.startswith("datetime64"):
        parsed = pd.to_datetime(pd.Series(values, dtype=object), errors="coerce", format="mixed")
        tz = spec_field.dtype.partition(", ")[2].rstrip("]")
        if tz and parsed.dt.tz is None:
            parsed = parsed.dt.tz_localize(tz)
        return parsed
    if spec_field.dtype in ("str", "string") and all(v is None or isinstance(v, str) for v in values):
        return pd.array(values, dtype="str" if spec_field.dtype == "str" else "string")
    return np.array(values, dtype=object)
