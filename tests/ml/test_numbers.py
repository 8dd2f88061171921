"""parse_numbers and numeric_share: formatted numbers people write, read back as floats."""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csv_processor.ml.numbers import numeric_share, parse_numbers

EXAMPLES = [
    ("1,000", 1000.0),
    ("43,550", 43550.0),
    ("$4.99", 4.99),
    ("19M", 19e6),
    ("8.5k", 8500.0),
    ("1,000,000+", 1e6),
    ("12%", 12.0),
    ("(42)", -42.0),
    ("(1,234.50)", -1234.5),
    (" 7 ", 7.0),
    ("-$1,234.5", -1234.5),
    ("$-5", -5.0),
    ("€ 12.50", 12.5),
    ("1e3", 1000.0),
    (".5", 0.5),
    ("5.", 5.0),
    ("10k+", 10000.0),
    ("2B", 2e9),
]
NOT_NUMBERS = ["Varies with device", "abc", "", " ", "-", ".", "e5", "1e", "(3", "4)"]
NOT_NUMBERS += ["1,5", "1,0000", "12 34", "1.2.3"]  # thousands groups must be exact


@pytest.mark.parametrize(("text", "expected"), EXAMPLES)
def test_parse_numbers_reads_formatted_number(text, expected):
    assert parse_numbers(pd.Series([text])).iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_parse_numbers_gives_nan_for_non_numbers(text):
    assert math.isnan(parse_numbers(pd.Series([text])).iloc[0])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("€ 12,50", 12.5), ("1.000,25", 1000.25), ("1 000", 1000.0), ("1\u00a0000,5", 1000.5), ("3,5%", 3.5)],
)
def test_parse_numbers_reads_decimal_comma(text, expected):
    assert parse_numbers(pd.Series([text]), decimal=",").iloc[0] == pytest.approx(expected)


def test_parse_numbers_with_decimal_comma_rejects_point_decimals():
    # "12.50" is not a valid thousands group, so it must not become 1250.
    assert math.isnan(parse_numbers(pd.Series(["12.50"]), decimal=",").iloc[0])


def test_parse_numbers_rejects_unknown_decimal_mark():
    with pytest.raises(ValueError, match="decimal"):
        parse_numbers(pd.Series(["1"]), decimal=";")


def test_parse_numbers_keeps_index_name_and_missing_values():
    series = pd.Series(["1,000", None, "x", "$2"], index=[10, 11, 12, 13], name="price")
    out = parse_numbers(series)
    assert out.dtype == "float64"
    assert out.name == "price"
    assert list(out.index) == [10, 11, 12, 13]
    assert out.iloc[0] == 1000.0
    assert math.isnan(out.iloc[1])
    assert math.isnan(out.iloc[2])
    assert out.iloc[3] == 2.0


def test_parse_numbers_passes_numeric_input_through():
    ints = pd.Series([1, None, 3], dtype="Int64")
    assert parse_numbers(ints).tolist()[::2] == [1.0, 3.0]
    assert math.isnan(parse_numbers(ints).iloc[1])
    assert parse_numbers(pd.Series([True, False])).tolist() == [1.0, 0.0]
    floats = pd.Series([0.1, -2.5e300])
    assert parse_numbers(floats).tolist() == [0.1, -2.5e300]


def test_parse_numbers_reads_object_column_of_mixed_values():
    assert parse_numbers(pd.Series([1, "2,000", 3.5, None], dtype=object)).tolist()[:3] == [1.0, 2000.0, 3.5]


def test_parse_numbers_reads_categorical_column():
    assert parse_numbers(pd.Series(["1,000", "x", "1,000"], dtype="category")).tolist()[::2] == [1000.0, 1000.0]


def test_parse_numbers_handles_a_million_rows_of_repeated_text():
    series = pd.Series(["1,000,000+", "$4.99", "19M", "Varies with device"] * 250_000)
    out = parse_numbers(series)
    assert out.iloc[:4].tolist()[:3] == [1e6, 4.99, 19e6]
    assert int(out.isna().sum()) == 250_000


@settings(deadline=None)  # timing varies on a shared machine; correctness is what is checked
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_parse_numbers_round_trips_thousands_separators(number):
    assert parse_numbers(pd.Series([f"{number:,}"])).iloc[0] == number


@settings(deadline=None)  # timing varies on a shared machine; correctness is what is checked
@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["${:,}", "{:,}+", "€ {:,}", "({:,})", "{:,}%"]))
def test_parse_numbers_round_trips_decorated_integers(number, template):
    expected = -number if template.startswith("(") else number
    assert parse_numbers(pd.Series([template.format(number)])).iloc[0] == expected


@settings(deadline=None)  # timing varies on a shared machine; correctness is what is checked
@given(st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False))
def test_parse_numbers_round_trips_decimal_comma_format(number):
    # Format as 1.234.567,89 (German style): swap the separators of Python's 1,234,567.89.
    text = f"{number:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    assert parse_numbers(pd.Series([text]), decimal=",").iloc[0] == pytest.approx(float(number))


@settings(deadline=None)  # timing varies on a shared machine; correctness is what is checked
@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_parse_numbers_round_trips_python_float_repr(number):
    assert parse_numbers(pd.Series([repr(number)])).iloc[0] == number


@settings(deadline=None)  # timing varies on a shared machine; correctness is what is checked
@given(st.text(alphabet="abcxyz _/;:#", min_size=1, max_size=12))
def test_parse_numbers_never_reads_text_without_digits(text):
    assert math.isnan(parse_numbers(pd.Series([text])).iloc[0])


def test_numeric_share_ignores_blank_and_missing_cells():
    series = pd.Series([" ", "1", "2", "x", None, ""])
    assert numeric_share(series) == pytest.approx(2 / 3)


def test_numeric_share_counts_each_row_not_each_distinct_value():
    series = pd.Series(["1"] * 9 + ["x"])
    assert numeric_share(series) == pytest.approx(0.9)


def test_numeric_share_of_numbers_and_of_nothing():
    assert numeric_share(pd.Series([1.0, np.nan])) == 1.0
    assert numeric_share(pd.Series([np.nan, np.nan])) == 0.0
    assert numeric_share(pd.Series([None, " "], dtype=object)) == 0.0


def test_numeric_share_uses_decimal_mark():
    series = pd.Series(["1,5", "2,25", "3"])
    assert numeric_share(series, decimal=",") == 1.0
    assert numeric_share(series) == pytest.approx(1 / 3)


@pytest.mark.parametrize("text", ["12\n", "12\r\n", "\n12", " 12\f", "\r12 "])
def test_parse_numbers_reads_numbers_with_line_breaks_around(text):
    """Every whitespace the pattern accepts is trimmed before the cast (these once raised ArrowInvalid)."""
    assert parse_numbers(pd.Series([text], dtype=object)).tolist() == [12.0]


NUMBERISH = st.text(alphabet="0123456789 ,.$€()%-+eEkKMBGT\n\r\t\f\u00a0\u202f", max_size=10)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), NUMBERISH)))
def test_parse_numbers_never_fails_on_any_text(texts):
    values = parse_numbers(pd.Series(texts, dtype=object))

    assert len(values) == len(texts)
    assert values.dtype == "float64"


@pytest.mark.parametrize(("text", "expected"), [("19 M", 19e6), ("0 B", 0.0), ("2 k", 2000.0), ("$ 3 K", 3000.0)])
def test_parse_numbers_reads_a_space_before_the_multiplier(text, expected):
    assert parse_numbers(pd.Series([text], dtype=object)).tolist() == [expected]
