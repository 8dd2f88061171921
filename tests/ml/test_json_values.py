"""json_value, the one numpy/pandas -> JSON value converter."""

import datetime as dt
import decimal
import json

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from csv_processor.ml.json_values import json_value


def test_json_value_turns_numpy_pandas_and_missing_values_into_plain_json():
    value = {
        1: np.int64(3),
        "f": np.float32(1.5),
        "nan": float("nan"),
        "inf": np.float64("inf"),
        "flag": np.bool_(True),
        "when": pd.Timestamp("2024-03-01 12:30"),
        "day": dt.date(2024, 3, 1),
        "nat": pd.NaT,
        "na": pd.NA,
        "array": np.array([1, 2]),
        "tuple": (np.nan, "x"),
        "decimal": decimal.Decimal("1.25"),
    }
    assert json_value(value) == {
        "1": 3,
        "f": 1.5,
        "nan": None,
        "inf": None,
        "flag": True,
        "when": "2024-03-01T12:30:00",
        "day": "2024-03-01",
        "nat": None,
        "na": None,
        "array": [1, 2],
        "tuple": [None, "x"],
        "decimal": "1.25",
    }
    assert type(json_value(np.int64(3))) is int


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.datetimes().map(pd.Timestamp),
    st.integers(min_value=-(2**62), max_value=2**62).map(np.int64),
    st.floats(width=32).map(np.float32),
    st.just(pd.NaT),
    st.just(pd.NA),
)
nested = st.recursive(scalars, lambda inner: st.lists(inner) | st.dictionaries(st.text() | st.integers(), inner))


@given(nested)
def test_json_value_output_is_always_strict_json(value):
    converted = json_value(value)
    assert json.loads(json.dumps(converted, allow_nan=False)) == converted
