"""Apply one fitted step to a DataFrame. Inputs are never mutated: changed columns go into a shallow copy.

Row filters (training-only steps) are written as a keep-mask so the preview can show which rows go.
"""

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.columns import (
    column,
    is_datetime,
    is_numeric,
    kind_name,
    require_columns,
    require_numeric,
    require_text,
)
from csv_processor.ml.cleaning.conditions import condition_mask
from csv_processor.ml.cleaning.convert import (
    fill_value,
    replace_in,
    to_boolean,
    to_datetime,
)
from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.cleaning.step import Step
from csv_processor.ml.numbers import parse_numbers

logger = logging.getLogger(__name__)


def apply_step(df: pd.DataFrame, step: Step) -> pd.DataFrame:
    """The result of `step` on `df`; raises CleaningError for a missing column or a column of the wrong type."""
    if step.training_only:
        mask = kept_rows(df, step)
        return df.copy(deep=False) if mask.all() else df[mask]
    return _COLUMN_OPS[step.op](df, step.params)


def kept_rows(df: pd.DataFrame, step: Step) -> np.ndarray:
    """For a row filter: a boolean array, True for the rows the step keeps."""
    return _ROW_FILTERS[step.op](df, step.params)


def _with_column(df: pd.DataFrame, name: str, values: pd.Series) -> pd.DataFrame:
    out = df.copy(deep=False)
    out[name] = values
    return out


# Row filters -------------------------------------------------------------------------------------


def _delete_rows(df: pd.DataFrame, p: dict) -> np.ndarray:
    # Checked as Python ints first: a position past 2**63 does not fit the int64 array.
    if p["positions"] and max(p["positions"]) >= len(df):
        raise CleaningError(f"Row {max(p['positions']) + 1} does not exist: the data has {len(df)} rows.")
    positions = np.asarray(p["positions"], dtype=np.int64)
    keep = np.ones(len(df), dtype=bool)
    keep[positions] = False
    return keep


def _delete_where(df: pd.DataFrame, p: dict) -> np.ndarray:
    return ~condition_mask(column(df, p["column"]), p["condition"], p.get("value"))


def _drop_duplicates(df: pd.DataFrame, p: dict) -> np.ndarray:
    subset = p.get("columns")
    require_columns(df, subset or [])
    return ~df.duplicated(subset=subset).to_numpy()


def _drop_missing(df: pd.DataFrame, p: dict) -> np.ndarray:
    subset = p.get("columns")
    require_columns(df, subset or [])
    frame = df[subset] if subset else df
    return frame.notna().all(axis=1).to_numpy()


def _inside_bounds(df: pd.DataFrame, p: dict) -> np.ndarray:
    series = column(df, p["column"])
    require_numeric(series, "remove outliers from")
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    # Missing values are not outliers: they stay, for a fill step to handle.
    return ~((values < p["lower"]) | (values > p["upper"]))


_ROW_FILTERS: dict[str, Callable[[pd.DataFrame, dict], np.ndarray]] = {
    "delete_rows": _delete_rows,
    "delete_rows_where": _delete_where,
    "drop_duplicates": _drop_duplicates,
    "drop_missing": _drop_missing,
    "remove_outliers": _inside_bounds,
}


# Column steps ------------------------------------------------------------------------------------


def _drop_columns(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    require_columns(df, p["columns"])
    return df.drop(columns=p["columns"])


def _rename(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    require_columns(df, [p["column"]])
    if p["new_name"] in df.columns and p["new_name"] != p["column"]:
        raise CleaningError(f'A column named "{p["new_name"]}" already exists.')
    return df.rename(columns={p["column"]: p["new_name"]})


def _to_number(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    if is_numeric(series):
        return df.copy(deep=False)
    return _with_column(df, p["column"], parse_numbers(series, decimal=p["decimal"]))


def _to_datetime(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    if is_datetime(series):
        return df.copy(deep=False)
    return _with_column(df, p["column"], to_datetime(series, tuple(p["formats"])))


def _to_category(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    # No categories are stored: values unseen in training become new categories, not missing.
    return _with_column(df, p["column"], column(df, p["column"]).astype("category"))


def _to_boolean(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    return _with_column(df, p["column"], to_boolean(series, p["true_values"], p["false_values"]))


def _fill(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    if p["strategy"] == "ffill":
        return _with_column(df, p["column"], series.ffill())
    value: Any = fill_value(series, p["value"])
    if isinstance(series.dtype, pd.CategoricalDtype) and value not in series.cat.categories:
        series = series.cat.add_categories([value])
    return _with_column(df, p["column"], series.fillna(value))


def _replace(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    return _with_column(df, p["column"], replace_in(series, p["values"], p.get("new_value")))


def _text_op(df: pd.DataFrame, name: str, action: str, fn: Callable[[Any], pd.Series]) -> pd.DataFrame:
    """`fn` gets the column's `.str` accessor."""
    series = column(df, name)
    require_text(series, action)
    changed = fn(series.str)
    if isinstance(series.dtype, pd.CategoricalDtype):
        changed = changed.astype("category")
    return _with_column(df, name, changed)


def _trim(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    return _text_op(df, p["column"], "trim", lambda s: s.strip())


def _change_case(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    return _text_op(df, p["column"], "change the case of", lambda s: getattr(s, p["case"])())


def _clip(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    require_numeric(series, "clip")
    return _with_column(df, p["column"], series.clip(p["lower"], p["upper"]))


_PART_ATTRIBUTES = {"year": "year", "month": "month", "day": "day", "weekday": "day_of_week", "hour": "hour"}


def _extract(df: pd.DataFrame, p: dict) -> pd.DataFrame:
    series = column(df, p["column"])
    if not is_datetime(series):
        raise CleaningError(f'"{series.name}" holds {kind_name(series)}, not dates: convert it to date/time first.')
    names = {part: f"{p['column']}_{part}" for part in p["parts"]}
    clash = [n for n in names.values() if n in df.columns]
    if clash:
        raise CleaningError(f'A column named "{clash[0]}" already exists: rename it first.')
    parts = {name: getattr(series.dt, _PART_ATTRIBUTES[part]) for part, name in names.items()}
    return df.assign(**parts)


_COLUMN_OPS: dict[str, Callable[[pd.DataFrame, dict], pd.DataFrame]] = {
    "drop_columns": _drop_columns,
    "rename_column": _rename,
    "to_number": _to_number,
    "to_datetime": _to_datetime,
    "to_category": _to_category,
    "to_boolean": _to_boolean,
    "fill_missing": _fill,
    "replace_values": _replace,
    "trim_whitespace": _trim,
    "change_case": _change_case,
    "clip_outliers": _clip,
    "extract_datetime": _extract,
}

__all__ = ["apply_step", "kept_rows"]
