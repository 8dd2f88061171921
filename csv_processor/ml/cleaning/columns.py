"""Column look-ups and type tests shared by fitting and applying steps, with the user-facing errors."""

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.numbers import parse_numbers


def require_columns(df: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(f'"{c}"' for c in missing)
        raise CleaningError(
            f"Column {names} does not exist (an earlier step may have dropped or renamed it)."
            if len(missing) == 1
            else f"Columns {names} do not exist (an earlier step may have dropped or renamed them)."
        )


def column(df: pd.DataFrame, name: str) -> pd.Series:
    require_columns(df, [name])
    return df[name]


def is_numeric(series: pd.Series) -> bool:
    """Numbers a computation can use: ints and floats, not booleans (a mean of yes/no is not what people mean)."""
    dtype = series.dtype
    return ptypes.is_numeric_dtype(dtype) and not ptypes.is_bool_dtype(dtype) and not ptypes.is_complex_dtype(dtype)


def is_datetime(series: pd.Series) -> bool:
    return ptypes.is_datetime64_any_dtype(series.dtype)


def is_text(series: pd.Series) -> bool:
    """str/object columns, and categories whose levels are text."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return ptypes.is_string_dtype(dtype.categories.dtype) or ptypes.is_object_dtype(dtype.categories.dtype)
    return ptypes.is_string_dtype(dtype) or ptypes.is_object_dtype(dtype)


def require_numeric(series: pd.Series, action: str) -> None:
    if not is_numeric(series):
        raise CleaningError(
            f'Cannot {action} "{series.name}": it holds {kind_name(series)}, not numbers. Convert it to numbers first.'
        )


def require_text(series: pd.Series, action: str) -> None:
    if not is_text(series):
        raise CleaningError(f'Cannot {action} "{series.name}": it holds {kind_name(series)}, not text.')


def kind_name(series: pd.Series) -> str:
    if ptypes.is_bool_dtype(series.dtype):
        return "true/false values"
    if is_numeric(series):
        return "numbers"
    if is_datetime(series):
        return "dates"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categories"
    return "text"


def to_number_or_error(value: object, series: pd.Series, what: str) -> float:
    """A user-given value as a number for comparing with a numeric column ("1,000" and "$5" are accepted)."""
    if isinstance(value, bool) or value is None:
        raise CleaningError(f'{what} {value!r} is not a number, but "{series.name}" holds numbers.')
    if isinstance(value, int | float):
        return float(value)
    parsed = parse_numbers(pd.Series([str(value)], dtype="object")).iloc[0]
    if np.isnan(parsed):
        raise CleaningError(f'{what} {value!r} is not a number, but "{series.name}" holds numbers.')
    return float(parsed)
