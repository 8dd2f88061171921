"""The date step reads the training file's format exactly as before, and other notations too."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.training.preprocess import DateParts, date_ambiguity, read_other_dates
from csv_processor.ml.types import parse_datetimes


def fitted(dates: list[str]) -> DateParts:
    return DateParts().fit(pd.DataFrame({"day": dates}))


US = ["01/31/2020", "07/15/2020", "12/24/2021", "03/04/2020", None, "02/29/2020"]


def test_training_format_values_give_the_parts_the_step_always_gave():
    step = fitted(US)
    # What the step computed before other notations were read: the learned format, nothing else.
    before = DateParts._parts(parse_datetimes(pd.Series(US), step.formats_[0]), step.has_time_[0])

    assert step.formats_ == [("%m/%d/%Y",)]
    np.testing.assert_array_equal(step.transform(pd.DataFrame({"day": US})), before)


def test_iso_and_other_unambiguous_notations_read_as_the_same_day():
    step = fitted(US)
    values = ["07/15/2020", "2020-07-15", "2020-07-15T00:00:00", "15-Jul-2020", "July 15, 2020", "15.07.2020"]

    parts = step.transform(pd.DataFrame({"day": values}))

    assert (parts == parts[0]).all()
    assert parts[0][1:4].tolist() == [2020.0, 7.0, 15.0]


def test_no_date_and_blanks_are_missing_and_a_learned_order_settles_03_04():
    us, iso = fitted(US), fitted(["2020-01-31", "2020-07-15", "2021-12-24"])
    frame = pd.DataFrame({"day": ["not a date", "", None, "03/04/2020"]})

    us_parts, iso_parts = us.transform(frame), iso.transform(frame)

    assert np.isnan(us_parts[:3]).all()
    assert us_parts[3][2] == 3.0  # March, as the training file wrote month first
    assert np.isnan(iso_parts[3]).all()  # could be 3 April or 4 March: not guessed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07/15/2020", "2020-07-15"),
        ("15/07/2020", "2020-07-15"),
        ("07/07/2020", "2020-07-07"),
        ("15-07-2020", "2020-07-15"),
        ("9999-12-31", "9999-12-31"),
        ("03/04/2020", None),
        ("13/45/2020", None),
        ("soon", None),
    ],
)
def test_read_other_dates(text, expected):
    got = read_other_dates(pd.Series([text]))[0]

    assert (None if pd.isna(got) else got.strftime("%Y-%m-%d")) == expected


def test_date_ambiguity_names_both_readings():
    assert [d.month for d in date_ambiguity("03/04/2020")] == [4, 3]
    assert date_ambiguity("07/15/2020") is None
    assert date_ambiguity("2020-03-04") is None


def test_a_request_row_reads_as_the_same_value_in_a_large_batch():
    step = fitted(US)
    values = ["07/15/2020", "2020-07-15", None, "junk", "03/04/2020", "15-Jul-2020", "9999-12-31"] * 5

    together = step.transform(pd.DataFrame({"day": values}))
    alone = np.vstack([step.transform(pd.DataFrame({"day": [value]})) for value in values])

    np.testing.assert_array_equal(together, alone)
