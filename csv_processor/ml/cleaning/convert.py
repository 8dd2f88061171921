"""Type conversions and value replacement, each computed once per distinct value where that is cheaper."""

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.cleaning.columns import is_datetime, is_numeric, is_text, kind_name, to_number_or_error
from csv_processor.ml.cleaning.conditions import as_bool, as_timestamp, text_of
from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.types import parse_datetimes


def to_datetime(series: pd.Series, formats: tuple[str, ...]) -> pd.Series:
    """Text to UTC timestamps with the fitted formats; unreadable values become NaT.

    Parsing runs on the distinct values only: dates repeat a lot (one per day or hour).
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    try:
        parsed = parse_datetimes(pd.Series(np.asarray(uniques, dtype=object)), formats)
    except (ValueError, KeyError) as exc:  # unreadable values become NaT; only a bad format raises
        raise CleaningError(
            f"The date format {' or '.join(formats)!r} is not valid: use strftime codes such as %d/%m/%Y."
        ) from exc
    values = parsed.array.take(codes, allow_fill=True)
    return pd.Series(values, index=series.index, name=series.name)


def to_boolean(series: pd.Series, true_values: list, false_values: list) -> pd.Series:
    """A nullable boolean column: listed values become True/False, anything else missing."""
    if ptypes.is_bool_dtype(series.dtype) and not isinstance(series.dtype, pd.CategoricalDtype):
        return series.astype("boolean")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = [_key(v) for v in np.asarray(uniques, dtype=object)]
    trues, falses = {_key(v) for v in true_values}, {_key(v) for v in false_values}
    is_true = np.array([k in trues for k in keys] + [False])
    known = np.array([k in trues or k in falses for k in keys] + [False])
    # Code -1 (missing) picks the extra last slot, which is unknown.
    values = pd.arrays.BooleanArray(is_true[codes], ~known[codes])
    return pd.Series(values, index=series.index, name=series.name)


def _key(value: object) -> str:
    """Compare true/false spellings case- and space-insensitively, and 1 with 1.0."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    return str(value).strip().lower()


def fill_value(series: pd.Series, value: object) -> object:
    """The fitted or given fill value as the column's type."""
    if is_numeric(series):
        return to_number_or_error(value, series, "The fill value")
    if is_datetime(series):
        return as_timestamp(value, series)
    if ptypes.is_bool_dtype(series.dtype):
        return as_bool(value, series)
    return value if isinstance(value, str) or not is_text(series) else text_of(value)


def replace_in(series: pd.Series, values: list, new_value: object) -> pd.Series:
    """`series` with every cell equal to one of `values` replaced by `new_value` (None means missing).

    Numbers match numerically (-200 matches -200.0); text matches exactly, so trim whitespace first.
    """
    if is_numeric(series):
        numbers = [to_number_or_error(v, series, "The value to replace") for v in values]
        new_number = np.nan if new_value is None else to_number_or_error(new_value, series, "The new value")
        return series.mask(series.isin(numbers), new_number)
    if not is_text(series):
        raise CleaningError(
            f'Replacing values works on numbers and text, but "{series.name}" holds {kind_name(series)}.'
        )
    targets = [text_of(v) for v in values]
    if isinstance(series.dtype, pd.CategoricalDtype):
        return _replace_categories(series, targets, new_value)
    new = None if new_value is None else text_of(new_value)
    return series.mask(series.isin(targets), new)


def _replace_categories(series: pd.Series, targets: list[str], new_value: object) -> pd.Series:
    hits = [c for c in series.cat.categories if c in set(targets)]
    if new_value is None:
        return series.cat.remove_categories(hits)
    new = text_of(new_value)
    if new not in series.cat.categories:
        series = series.cat.add_categories([new])
    return series.mask(series.isin(hits), new)
