"""The one numpy/pandas -> JSON value converter: what the app stores in JSON fields, logs and shows."""

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def json_value(value: Any) -> JsonValue:
    """Plain JSON types only, recursively: numpy scalars become Python ones, NaN, infinities and missing
    markers (NaT, NA) None (PostgreSQL refuses NaN in JSON), dates and timestamps ISO text, keys text,
    and anything else its text."""
    if isinstance(value, dict):
        return json_object(value)
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return None if _missing(value) else str(value)


def json_object(value: Mapping[Any, Any]) -> dict[str, JsonValue]:
    """`json_value` of a mapping, typed as the JSON object it becomes."""
    return {str(key): json_value(item) for key, item in value.items()}


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
