"""Compute the data-dependent parameters of a step once, on the training data, so replays reuse them."""

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.cleaning.columns import (
    column,
    is_datetime,
    is_numeric,
    require_columns,
    require_numeric,
    to_number_or_error,
)
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.schema import CleaningError, validate_params
from csv_processor.ml.cleaning.step import Step
from csv_processor.ml.json_values import json_value
from csv_processor.ml.numbers import parse_numbers
from csv_processor.ml.types import detect_datetime_format

logger = logging.getLogger(__name__)

DEFAULT_FACTORS = {"iqr": 1.5, "zscore": 3.0}
BOOLEAN_PAIRS = (("yes", "no"), ("y", "n"), ("true", "false"), ("t", "f"), ("1", "0"), ("1.0", "0.0"))


def fit_params(df: pd.DataFrame, op: str, params: dict) -> dict:
    """`params` completed with everything the op needs from the data; checks columns and types."""
    columns = params.get("columns") or []
    require_columns(df, [params["column"]] if "column" in params else columns)
    fitter = _FITTERS.get(op)
    return fitter(df, dict(params)) if fitter else dict(params)


def _fit_to_number(df: pd.DataFrame, params: dict) -> dict:
    if "decimal" not in params:
        series = column(df, params["column"])
        # Prefer "." on a tie: "1.5" and "1,5" are equally rare, and "." is what CSV writers mostly use.
        params["decimal"] = max((".", ","), key=lambda d: (parse_numbers(series, decimal=d).notna().sum(), d == "."))
    return params


def _fit_to_datetime(df: pd.DataFrame, params: dict) -> dict:
    series = column(df, params["column"])
    if "formats" in params:
        return params
    if is_datetime(series):
        params["formats"] = ["ISO8601"]
        return params
    guess = detect_datetime_format(series)
    if guess is None:
        raise CleaningError(f'No date format reads most values of "{series.name}"; give the format, e.g. %d/%m/%Y.')
    params["formats"] = list(guess.formats)
    return params


def _fit_to_boolean(df: pd.DataFrame, params: dict) -> dict:
    if "true_values" in params and "false_values" in params:
        return params
    series = column(df, params["column"])
    if ptypes.is_bool_dtype(series.dtype):
        params.update(true_values=[True], false_values=[False])
        return params
    distinct = {str(v).strip().lower() for v in series.dropna().unique()}
    for true, false in BOOLEAN_PAIRS:
        if distinct and distinct <= {true, false}:
            params.update(true_values=[true], false_values=[false])
            return params
    shown = ", ".join(sorted(distinct)[:5])
    raise CleaningError(f'Say which values of "{series.name}" mean true and which false (it holds {shown}).')


def _fit_fill(df: pd.DataFrame, params: dict) -> dict:
    series = column(df, params["column"])
    strategy = params["strategy"]
    if strategy == "constant":
        if params.get("value") is None:
            raise CleaningError("Give the constant to fill missing values with.")
        if is_numeric(series):
            params["value"] = to_number_or_error(params["value"], series, "The constant")
        return params
    if strategy == "ffill" or "value" in params:
        return params
    value: object
    if strategy in ("mean", "median"):
        require_numeric(series, f"fill with the {strategy}")
        value = series.mean() if strategy == "mean" else series.median()
    else:
        modes = series.mode(dropna=True)
        value = modes.iloc[0] if len(modes) else None
    if value is None or pd.isna(value):
        raise CleaningError(f'"{series.name}" has no values to compute the {strategy.replace("_", " ")} from.')
    params["value"] = json_value(value)
    return params


def _fit_bounds(df: pd.DataFrame, params: dict) -> dict:
    series = column(df, params["column"])
    require_numeric(series, "look for outliers in")
    params.setdefault("factor", DEFAULT_FACTORS[params["method"]])
    if "lower" in params and "upper" in params:
        return params
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    if values.size == 0:
        raise CleaningError(f'"{series.name}" has no values to find outliers in.')
    # A huge factor (or huge values) overflows to infinite bounds: refused below, so no warning here.
    with np.errstate(over="ignore", invalid="ignore"):
        if params["method"] == "iqr":
            q1, q3 = np.percentile(values, [25, 75])
            lower, upper = q1 - params["factor"] * (q3 - q1), q3 + params["factor"] * (q3 - q1)
        else:
            mean, std = values.mean(), values.std()
            lower, upper = mean - params["factor"] * std, mean + params["factor"] * std
    if not (np.isfinite(lower) and np.isfinite(upper)):
        raise CleaningError(f"The factor {params['factor']:g} is too large: the bounds would be infinite.")
    params.update(lower=float(lower), upper=float(upper))
    return params


def _fit_rename(df: pd.DataFrame, params: dict) -> dict:
    if params["new_name"] in df.columns and params["new_name"] != params["column"]:
        raise CleaningError(f'A column named "{params["new_name"]}" already exists.')
    return params


_FITTERS: dict[str, Callable[[pd.DataFrame, dict], dict]] = {
    "to_number": _fit_to_number,
    "to_datetime": _fit_to_datetime,
    "to_boolean": _fit_to_boolean,
    "fill_missing": _fit_fill,
    "clip_outliers": _fit_bounds,
    "remove_outliers": _fit_bounds,
    "rename_column": _fit_rename,
}


def fit_step(df: pd.DataFrame, op: str, params: dict) -> Step:
    """Validate a user's request against `df` and return the step with its data-dependent values fitted.

    Raises CleaningError for an unknown op, bad parameters, a missing column or a column of the wrong type.
    """
    checked = validate_params(op, params, fitted=False)
    step = Step(op=op, params=fit_params(df, op, checked))
    # A dry run runs every check of the op (wrong-type conditions, text ops on numbers, row numbers);
    # on no rows it costs nothing, but row positions must be checked against the real rows.
    apply_step(df if op == "delete_rows" else df.iloc[:0], step)
    logger.debug("fitted %s", step.describe())
    return step
