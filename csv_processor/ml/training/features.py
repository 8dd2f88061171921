"""Feature kinds for the pipeline and the feature schema the prediction form is generated from.

`feature_kinds` turns the inferred ColumnTypes into the kinds `build_pipeline` expects. Text that is
mostly numbers ("numeric_candidate", like telco TotalCharges with 11 blanks) is declared a number
here, and the pipeline's number step reads it with parse_numbers: the conversion lives inside the
model, so raw rows at prediction time are read the same way. The same goes for date-like text.
"""

import logging

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.types import ColumnType, detect_datetime_format, parse_datetimes

logger = logging.getLogger(__name__)

# How the pipeline treats each kind: numbers, dates split into parts, categories, or free text.
ROLE_OF_KIND = {
    "integer": "numeric",
    "float": "numeric",
    "boolean": "categorical",
    "categorical": "categorical",
    "identifier": "categorical",
    "datetime": "datetime",
    "text": "text",
}
# Known categories kept in the input schema: the prediction form offers them and the API warns about
# any other value when the list is complete. Beyond this many, other values predict without a warning.
SCHEMA_CATEGORIES = 200


def feature_kinds(types: list[ColumnType], features: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Kind per feature (a key of ROLE_OF_KIND), in the order of `features`."""
    by_name = {column.name: column for column in types}
    return {name: _pipeline_kind(by_name[name]) for name in features}


def _pipeline_kind(column: ColumnType) -> str:
    if column.kind in ("integer", "float", "boolean", "datetime"):
        return column.kind
    if column.numeric_candidate:
        return "float"
    if column.datetime_candidate:
        return "datetime"
    if column.kind == "identifier" and column.dtype.lower().startswith(("int", "uint")):
        # A numeric id the user chose to keep is a number to the model, not 891 categories.
        return "integer"
    return column.kind


def feature_schema(df: pd.DataFrame, kinds: dict[str, str]) -> dict[str, dict]:
    """Per feature: kind, role and what a form needs (min/max/median, categories, date range)."""
    return {
        name: {"kind": kind, "role": ROLE_OF_KIND[kind], **_describe(df[name], ROLE_OF_KIND[kind])}
        for name, kind in kinds.items()
    }


def _describe(series: pd.Series, role: str) -> dict:
    if role == "numeric":
        values = parse_numbers(series).to_numpy()
        values = values[np.isfinite(values)]
        if not len(values):
            return {"min": None, "max": None, "median": None}
        return {"min": float(values.min()), "max": float(values.max()), "median": float(np.median(values))}
    if role == "datetime":
        parsed = _parse_dates(series).dropna()
        if parsed.empty:
            return {"min": None, "max": None}
        return {"min": parsed.min().isoformat(), "max": parsed.max().isoformat()}
    if role == "categorical":
        counts = series.dropna().astype("str").value_counts()
        return {
            "categories": [str(v) for v in counts.index[:SCHEMA_CATEGORIES]],
            "more": len(counts) > SCHEMA_CATEGORIES,
        }
    return {}


def _parse_dates(series: pd.Series) -> pd.Series:
    if ptypes.is_datetime64_any_dtype(series.dtype):
        return series
    guess = detect_datetime_format(series)
    if guess is None:
        return pd.Series(pd.NaT, index=series.index)
    return parse_datetimes(series, guess.formats)
