"""profile_frame: every statistic checked against pandas/numpy computing the same thing the slow way."""

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from csv_processor.ml.profiling.profile import ColumnProfile, count_duplicate_rows, profile_frame
from csv_processor.ml.types import infer_column_types
from tests.shared_datasets import SHARED_DATASETS, manifest_params, read_csv_options


def column(df: pd.DataFrame, name: str, **options) -> ColumnProfile:
    return next(c for c in profile_frame(df, **options).columns if c.name == name)


def strict_json(profile) -> dict:
    return json.loads(json.dumps(profile.to_dict(), allow_nan=False))


finite_floats = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, width=64)
# Values with two decimals, like real measurements: squares of 1e-186 underflow in pandas' own corr().
measurements = st.integers(-(10**8), 10**8).map(lambda v: v / 100)
float_arrays = hnp.arrays("float64", st.integers(1, 300), elements=finite_floats | st.just(np.nan))


@settings(max_examples=60, deadline=None)
@given(float_arrays)
def test_numeric_statistics_match_pandas(values):
    series = pd.Series(values)
    stats = column(pd.DataFrame({"x": series}), "x")
    present = series.dropna()
    assert (stats.count, stats.missing, stats.unique) == (len(present), int(series.isna().sum()), present.nunique())
    if present.empty:
        assert stats.mean is None
        assert stats.quantiles is None
        return
    assert stats.min == present.min()
    assert stats.max == present.max()
    assert stats.mean == pytest.approx(present.mean(), rel=1e-9, abs=1e-6)
    assert stats.std == (pytest.approx(present.std(), rel=1e-6, abs=1e-6) if len(present) > 1 else None)
    expected = present.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).tolist()
    assert list(stats.quantiles.values()) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    counts, edges = np.histogram(present.to_numpy(), bins=20)
    assert stats.histogram["counts"] == counts.tolist()
    assert stats.histogram["edges"] == pytest.approx(edges.tolist())


@settings(max_examples=40, deadline=None)
@given(hnp.arrays("int64", st.integers(1, 200), elements=st.integers(-5, 5)))
def test_top_values_match_value_counts_including_ties(values):
    stats = column(pd.DataFrame({"x": values}), "x", top_n=3)
    counts = pd.Series(values).value_counts()
    assert [c for _, c in stats.top_values] == counts.iloc[:3].tolist()
    for value, count in stats.top_values:
        assert counts[value] == count


def test_top_values_of_integers_are_integers():
    stats = column(pd.DataFrame({"Pclass": [3, 1, 3, 2, 3]}), "Pclass")
    assert stats.top_values[0] == (3, 3)
    assert type(stats.top_values[0][0]) is int
    assert (stats.min, stats.max) == (1, 3)


def test_text_column_gets_bars_top_values_and_exact_mean_length():
    series = pd.Series(["S", "C", "S", None, "Queenstown", "S"])
    stats = column(pd.DataFrame({"Embarked": series}), "Embarked", top_n=2)
    assert (stats.kind, stats.count, stats.missing, stats.unique) == ("categorical", 5, 1, 3)
    assert stats.top_values == (("S", 3), ("C", 1))
    assert stats.bars == {"labels": ["S", "C"], "counts": [3, 1], "other": 1}
    assert stats.mean_length == pytest.approx(series.dropna().str.len().mean())
    assert stats.mean is None
    assert stats.histogram is None


def test_numbers_stored_as_text_are_profiled_as_numbers():
    series = pd.Series(["29.85", "1,889.50", " ", "108.15", None, "29.85"])
    stats = column(pd.DataFrame({"TotalCharges": series}), "TotalCharges")
    assert stats.kind == "float"
    assert (stats.count, stats.missing, stats.converted) == (5, 1, 4)
    assert stats.mean == pytest.approx((29.85 * 2 + 1889.5 + 108.15) / 4)
    assert (stats.min, stats.max) == (29.85, 1889.5)
    assert sum(stats.histogram["counts"]) == 4
    assert stats.top_values[0] == ("29.85", 2)  # top values stay as written


def test_dates_stored_as_text_get_iso_min_max():
    series = pd.Series(["2012/01/03", "2012/01/01", "2015/12/31", None] * 10)
    stats = column(pd.DataFrame({"date": series}), "date")
    assert (stats.kind, stats.converted) == ("datetime", 30)
    assert (stats.min, stats.max) == ("2012-01-01T00:00:00+00:00", "2015-12-31T00:00:00+00:00")
    assert sum(stats.histogram["counts"]) == 30
    assert stats.histogram["edges"][0] == stats.min


def test_datetime_column_min_max_and_histogram():
    stamps = pd.to_datetime(["2020-01-01", None, "2021-06-01 12:00", "2020-01-01"], format="ISO8601")
    stats = column(pd.DataFrame({"when": stamps}), "when")
    assert (stats.count, stats.unique) == (3, 2)
    assert (stats.min, stats.max) == ("2020-01-01T00:00:00", "2021-06-01T12:00:00")
    assert stats.top_values[0] == ("2020-01-01T00:00:00", 2)
    assert sum(stats.histogram["counts"]) == 3


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays("int64", st.integers(0, 60), elements=st.integers(0, 2)),
    st.lists(st.sampled_from(["a", "b", None]), min_size=60, max_size=60),
    st.lists(st.sampled_from([1.5, np.nan]), min_size=60, max_size=60),
)
def test_duplicate_rows_match_pandas(ints, texts, floats):
    n = len(ints)
    df = pd.DataFrame({"i": ints, "s": pd.Series(texts[:n], dtype="str"), "f": floats[:n]})
    assert profile_frame(df).duplicate_rows == int(df.duplicated().sum())
    assert count_duplicate_rows(df) == int(df.duplicated().sum())


def test_constant_columns_include_all_missing_ones():
    df = pd.DataFrame({"same": [7, 7, 7], "empty": [np.nan] * 3, "varies": [1, 2, 3], "word": ["a", "a", None]})
    assert profile_frame(df).constant_columns == ("same", "empty", "word")


@settings(max_examples=40, deadline=None)
@given(hnp.arrays("float64", hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=40), elements=measurements))
def test_correlation_matches_pandas_pairwise(values):
    rng = np.random.default_rng(values.size)
    values[rng.random(values.shape) < 0.2] = np.nan
    df = pd.DataFrame(values, columns=[f"c{i}" for i in range(values.shape[1])])
    ours = profile_frame(df, max_corr_columns=40).correlation
    expected = df.corr()
    assert ours["columns"] == list(df.columns)
    for i, row in enumerate(ours["matrix"]):
        for j, r in enumerate(row):
            if r is None:
                assert np.isnan(expected.iloc[i, j])
            else:
                assert r == pytest.approx(expected.iloc[i, j], abs=1e-6)


def test_correlation_skips_identifiers_and_text_and_caps_columns():
    df = pd.DataFrame(
        {"PassengerId": range(1, 101), "a": np.arange(100.0) ** 2, "name": ["x"] * 100, "b": np.arange(100) % 7}
    )
    assert profile_frame(df).correlation["columns"] == ["a", "b"]
    assert profile_frame(df, max_corr_columns=1).correlation["columns"] == ["a"]


def test_correlation_is_none_for_constant_column():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "year": [2014, 2014, 2014]})
    assert profile_frame(df).correlation["matrix"] == [[1.0, None], [None, None]]


def test_correlation_survives_large_offsets():
    rng = np.random.default_rng(0)
    year = 2013 + rng.integers(0, 3, 10_000)
    df = pd.DataFrame({"year": year, "noisy": year * 1e6 + rng.normal(0, 1e6, 10_000)})
    assert profile_frame(df).correlation["matrix"][0][1] == pytest.approx(df.corr().iloc[0, 1], abs=1e-9)


def test_profile_uses_given_types():
    df = pd.DataFrame({"x": [1, 2, 3]})
    types = infer_column_types(df)
    forced = [type(types[0])(**{**types[0].to_dict(), "kind": "float"})]
    assert profile_frame(df, types=forced).columns[0].kind == "float"


def test_to_dict_is_strict_json_for_awkward_values():
    df = pd.DataFrame(
        {
            "inf": [1.0, np.inf, -np.inf, np.nan],
            "when": pd.to_datetime(["2020-01-01", None, None, "2020-01-02"]).tz_localize("Europe/Paris"),
            "flag": [True, False, True, True],
            "cat": pd.Categorical(["a", None, "b", "a"]),
            "obj": pd.Series([1, "x", None, 2.5], dtype=object),
        }
    )
    data = strict_json(profile_frame(df))
    assert data["rows"] == 4
    assert [c["name"] for c in data["columns"]] == ["inf", "when", "flag", "cat", "obj"]
    inf = data["columns"][0]
    assert (inf["min"], inf["max"], inf["mean"]) == (None, None, None)
    assert data["columns"][1]["min"] == "2020-01-01T00:00:00+01:00"
    assert data["columns"][2]["top_values"][0] == {"value": True, "count": 3}


def test_profile_of_empty_frames():
    assert strict_json(profile_frame(pd.DataFrame()))["columns"] == []
    empty = pd.DataFrame({"a": pd.Series([], dtype="float64"), "b": pd.Series([], dtype="str")})
    data = strict_json(profile_frame(empty))
    assert (data["rows"], data["duplicate_rows"], data["constant_columns"]) == (0, 0, ["a", "b"])


def test_memory_bytes_is_pandas_deep_memory_usage():
    df = pd.DataFrame({"a": range(10), "s": ["text"] * 10})
    assert profile_frame(df).memory_bytes == int(df.memory_usage(deep=True).sum())


@cache
def read_dataset(file: str) -> pd.DataFrame:
    return pd.read_csv(SHARED_DATASETS / file, **read_csv_options(file))


@pytest.mark.slow
@pytest.mark.needs_shared_datasets
@pytest.mark.parametrize("entry", manifest_params())
def test_real_dataset_profile_is_strict_json_and_matches_pandas(entry):
    frame = read_dataset(entry["file"])
    data = strict_json(profile_frame(frame))
    assert data["rows"] == len(frame)
    assert data["duplicate_rows"] == int(frame.duplicated().sum())
    for stats, (_, series) in zip(data["columns"], frame.items(), strict=True):
        assert stats["missing"] == int(series.isna().sum())
        assert stats["unique"] == series.nunique() or series.dtype == object
        if pd.api.types.is_numeric_dtype(series) and series.notna().any():
            assert stats["mean"] == pytest.approx(series.mean(), rel=1e-9)


def test_profile_rejects_types_for_other_columns():
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(ValueError, match="1 column types given for 2 columns"):
        profile_frame(df, types=infer_column_types(df[["a"]]))
    assert profile_frame(df, types=infer_column_types(df)).rows == 1


@pytest.mark.parametrize("scale", [1e3, 5e3, 2e4])
def test_correlation_of_a_few_rows_in_a_column_of_large_values_is_exact(scale):
    """The pair's rows sit near the column's mean while the rest of it is large: the left-out rows' sums
    are subtracted from the whole column's, whose rounding must not leak into the pair's r."""
    large = np.random.default_rng(0).normal(scale=scale, size=19)
    df = pd.DataFrame(
        {"a": [*large, *-large, 0.01, 0.03, 0.02], "b": [np.nan] * 38 + [1.0, 2.0, 4.0]},
    )

    ours = profile_frame(df, max_corr_columns=40).correlation["matrix"]

    assert ours[0][1] == pytest.approx(df.corr().iloc[0, 1], abs=1e-9)
