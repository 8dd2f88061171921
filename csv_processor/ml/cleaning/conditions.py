"""Row conditions for "delete rows where ...": the value is checked against the column's type first."""

import datetime as dt

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.cleaning.columns import is_datetime, is_numeric, is_text, kind_name, to_number_or_error
from csv_processor.ml.cleaning.schema import CleaningError

_SYMBOLS = {"less_than": "<", "greater_than": ">"}


def condition_mask(series: pd.Series, condition: str, value: object) -> np.ndarray:
    """True for the rows where `series <condition> value`; missing values never match a comparison."""
    if condition == "is_missing":
        return series.isna().to_numpy()
    if condition == "contains":
        if not is_text(series):
            raise CleaningError(f'"contains" needs text, but "{series.name}" holds {kind_name(series)}.')
        hits = series.str.contains(str(value), regex=False, na=False)
        return hits.to_numpy(dtype=bool, na_value=False)
    target = comparable_value(series, value, condition)
    if condition == "equals":
        hits = series == target
    elif condition == "less_than":
        hits = series < target
    else:
        hits = series > target
    return hits.to_numpy(dtype=bool, na_value=False)


def comparable_value(series: pd.Series, value: object, condition: str) -> object:
    """`value` as the column's type, or a CleaningError that says why it cannot be compared."""
    what = f"The value in the condition {_SYMBOLS.get(condition, condition)}"
    if ptypes.is_bool_dtype(series.dtype):
        if condition != "equals":
            raise CleaningError(f'"{series.name}" holds true/false values: only "equals" applies.')
        return as_bool(value, series)
    if is_numeric(series):
        return to_number_or_error(value, series, what)
    if is_datetime(series):
        return as_timestamp(value, series)
    if condition != "equals":
        raise CleaningError(
            f'"{_SYMBOLS[condition]}" needs numbers or dates, but "{series.name}" holds {kind_name(series)}.'
        )
    return value if isinstance(value, str) else text_of(value)


def text_of(value: object) -> str:
    # Forms and JSON send 3.0 for 3: compare with the text a CSV would hold.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def as_bool(value: object, series: pd.Series) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0"):
        return False
    raise CleaningError(f'{value!r} is not true or false, but "{series.name}" holds true/false values.')


def as_timestamp(value: object, series: pd.Series) -> pd.Timestamp:
    # pd.Timestamp refuses (TypeError) anything else, and None it reads as NaT: both are refused below.
    if not isinstance(value, str | int | float | dt.date):
        raise CleaningError(f'{value!r} is not a date, but "{series.name}" holds dates.')
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise CleaningError(f'{value!r} is not a date, but "{series.name}" holds dates.') from exc
    if pd.isna(stamp):
        raise CleaningError(f'{value!r} is not a date, but "{series.name}" holds dates.')
    tz = getattr(series.dtype, "tz", None)
    if tz is not None and stamp.tzinfo is None:
        return stamp.tz_localize(tz)
    if tz is None and stamp.tzinfo is not None:
        return stamp.tz_convert(None)
    return stamp
