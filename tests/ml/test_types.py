"""infer_column_types on small frames built here: one rule per test."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csv_processor.ml.types import KINDS, ColumnType, detect_datetime_format, infer_column_types, parse_datetimes


def kind_of(values, name="col", dtype=None) -> ColumnType:
    (column,) = infer_column_types(pd.DataFrame({name: pd.Series(values, dtype=dtype)}))
    return column


def test_kinds_are_the_agreed_seven():
    assert KINDS == ("integer", "float", "boolean", "categorical", "datetime", "text", "identifier")


def test_infer_column_types_returns_one_type_per_column_in_order():
    df = pd.DataFrame({"b": [1, 2], "a": ["x", "y"], 3: [0.5, 1.5]})
    assert [c.name for c in infer_column_types(df)] == ["b", "a", "3"]


def test_infer_column_types_counts_missing_exactly():
    column = kind_of([1.5, None, np.nan, 2.5, None])
    assert column.missing == 3


def test_to_dict_has_every_field():
    column = kind_of(["1,000+", "5,000+"] * 30)
    assert column.to_dict() == {
        "name": "col",
        "kind": column.kind,
        "dtype": "str",
        "missing": 0,
        "numeric_candidate": True,
        "datetime_candidate": False,
        "suggestion": column.suggestion,
    }


def test_float_with_fractions_is_float():
    assert kind_of([0.5, 1.25, np.nan, 3.0]).kind == "float"


def test_whole_floats_with_missing_values_are_integer():
    column = kind_of([1.0, 2.0, np.nan, 40.0])
    assert (column.kind, column.dtype) == ("integer", "float64")


def test_floats_are_never_identifiers():
    assert kind_of(np.arange(1000) + 0.5).kind == "float"


def test_zero_one_integers_stay_integer():
    assert kind_of([0, 1, 1, 0, 1] * 10).kind == "integer"


def test_integer_row_number_is_identifier():
    assert kind_of(np.arange(1, 892), name="PassengerId").kind == "identifier"


def test_unique_integers_named_like_an_id_are_identifier():
    rng = np.random.default_rng(0)
    values = rng.choice(10**9, size=500, replace=False)
    assert kind_of(values, name="customer_id").kind == "identifier"
    assert kind_of(values, name="amount").kind == "integer"


def test_integer_id_with_a_repeat_is_not_identifier():
    assert kind_of([1, 2, 3, 3, 5], name="user_id").kind == "integer"


def test_bool_dtype_is_boolean():
    assert kind_of([True, False, True]).kind == "boolean"


@pytest.mark.parametrize("pair", [("Yes", "No"), ("y", "n"), ("TRUE", "false"), ("T", "F")])
def test_two_valued_yes_no_text_is_boolean(pair):
    assert kind_of(list(pair) * 20 + [None]).kind == "boolean"


def test_two_valued_other_text_is_categorical():
    assert kind_of(["male", "female"] * 20).kind == "categorical"


def test_datetime_dtype_is_datetime():
    column = kind_of(pd.to_datetime(["2020-01-01", None, "2020-02-01"]))
    assert (column.kind, column.datetime_candidate, column.suggestion) == ("datetime", False, None)


def test_few_distinct_strings_are_categorical():
    assert kind_of(["S", "C", "Q", None] * 200).kind == "categorical"


def test_many_distinct_strings_under_five_percent_are_categorical():
    values = [f"city {i % 100}" for i in range(3000)]
    assert kind_of(values).kind == "categorical"


def test_unique_names_are_identifier():
    values = [f"Person{i}, Mr. Name{i * 7}" for i in range(300)]
    assert kind_of(values, name="Name").kind == "identifier"


def test_short_mostly_distinct_codes_are_identifier():
    values = [f"PC {i // 4 * 3 + i % 3}" if i % 2 else f"A/{i}" for i in range(400)]
    assert kind_of(values, name="Ticket").kind == "identifier"


def test_long_free_strings_are_text():
    values = [f"Customer {i} wrote a long review about delivery, price and the colour of item {i}" for i in range(200)]
    assert kind_of(values).kind == "text"


def test_formatted_numbers_are_numeric_candidates_with_plain_suggestion():
    column = kind_of(["1,000,000+", "10,000+", "500+"] * 40 + ["Free"])
    assert column.numeric_candidate
    assert column.kind == "integer"
    assert column.suggestion.startswith('Looks like numbers written as "1,000,000+" (99% of values)')
    assert '"Free" would become missing' in column.suggestion
    assert column.suggestion.endswith("convert to number")


def test_prices_with_currency_are_float_candidates():
    column = kind_of(["0", "$4.99", "$0.99", "0"] * 30)
    assert (column.kind, column.numeric_candidate) == ("float", True)
    assert '"0" or "$4.99"' in column.suggestion


def test_blank_cells_do_not_count_against_numbers():
    column = kind_of(["29.85", "1889.5", " ", "108.15"] * 30)
    assert column.numeric_candidate
    assert "(100% of values)" in column.suggestion
    assert "blank cells become missing" in column.suggestion


def test_share_below_ninety_five_percent_is_candidate_but_keeps_text_kind():
    column = kind_of([str(i) for i in range(92)] + ["n/a"] * 8)
    assert column.numeric_candidate
    assert column.kind not in ("integer", "float")


def test_numbers_with_one_placeholder_get_a_partial_suggestion():
    column = kind_of(["19M", "8.7M", "2.8M", "Varies with device"] * 30)
    assert not column.numeric_candidate
    assert column.suggestion.startswith('Partly numbers written as "19M" (75% of values)')
    assert '"Varies with device" would become missing' in column.suggestion


def test_codes_that_are_sometimes_numbers_get_no_number_suggestion():
    values = [str(100000 + i) if i % 4 else f"CA. {i}" for i in range(400)]
    assert kind_of(values, name="Ticket").suggestion is None


def test_decimal_comma_numbers_are_detected():
    column = kind_of(["12,50", "3,75", "1.000,25"] * 20)
    assert column.numeric_candidate
    assert "decimal comma" in column.suggestion


@pytest.mark.parametrize(
    ("values", "label"),
    [
        (["2013-01-01T10:00:00Z", "2013-01-01T11:00:00Z"], "ISO 8601"),
        (["2012-01-01", "2012-01-02"], "ISO 8601"),
        (["2012/01/01", "2012/01/02"], "YYYY/MM/DD"),
        (["10/03/2004", "25/03/2004"], "dd/mm/yyyy"),
        (["03/25/2004", "03/10/2004"], "mm/dd/yyyy"),
        (["07-Jan-18", "15-Jan-18"], "dd-Mon-yy"),
    ],
)
def test_date_strings_are_datetime_candidates(values, label):
    column = kind_of(values * 30)
    assert (column.kind, column.datetime_candidate) == ("datetime", True)
    assert column.suggestion == f"Looks like dates ({label}): convert to datetime"


def test_ambiguous_day_month_dates_are_read_day_first():
    guess = detect_datetime_format(pd.Series(["01/02/2020", "03/04/2020"]))
    assert guess.formats == ("%d/%m/%Y",)
    assert parse_datetimes(pd.Series(["01/02/2020"]), guess.formats).iloc[0].month == 2


def test_two_date_formats_in_one_column_are_both_found():
    values = pd.Series(["07-Jan-18"] * 90 + ["April 26, 2018"] * 10)
    guess = detect_datetime_format(values)
    assert guess.formats == ("%d-%b-%y", "%B %d, %Y")
    assert guess.share == 1.0
    assert parse_datetimes(values, guess.formats).notna().all()


def test_mostly_dates_are_candidates_without_datetime_kind():
    column = kind_of(["2012-01-01"] * 92 + ["unknown"] * 8)
    assert column.datetime_candidate
    assert column.kind != "datetime"
    assert "92% of values" in column.suggestion


@pytest.mark.parametrize("values", [["1.0.0", "2.1.3"], ["2015", "2016"], ["20150101", "20150102"], ["4.0.3 and up"]])
def test_versions_years_and_digit_runs_are_not_dates(values):
    assert detect_datetime_format(pd.Series(values * 10)) is None


def test_sampling_is_deterministic_on_large_columns():
    rng = np.random.default_rng(1)
    values = np.where(rng.random(60_000) < 0.93, rng.integers(0, 10**6, 60_000).astype(str), "n/a")
    df = pd.DataFrame({"a": values})
    assert infer_column_types(df) == infer_column_types(df.copy())
    assert infer_column_types(df)[0].numeric_candidate


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=1000, max_value=10**9), min_size=20, max_size=200, unique=True))
def test_thousands_formatted_integers_are_always_integer_candidates(numbers):
    column = kind_of([f"{n:,}" for n in numbers])
    assert (column.kind, column.numeric_candidate, column.datetime_candidate) == ("integer", True, False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=32), min_size=1, max_size=50))
def test_float_columns_are_float_or_integer(values):
    column = kind_of(values, dtype="float64")
    finite = [v for v in values if not np.isnan(v)]
    expected = "integer" if finite and all(float(v).is_integer() for v in finite) else "float"
    assert column.kind == expected
