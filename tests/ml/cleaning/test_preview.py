"""Previews: counts, affected columns and samples for row filters, column changes, renames and new columns."""

import numpy as np
import pandas as pd

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.preview import preview_step


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [22.0, np.nan, 35.0, np.nan, 4.0, 30.0],
            "city": ["Oslo", "Rome", "Oslo", "Rome", "Oslo", "Rome"],
            "when": pd.to_datetime(["2020-01-02", "2020-02-03", None, "2021-03-04", "2022-05-06", "2023-07-08"]),
        }
    )


def test_preview_of_a_row_filter_shows_the_rows_that_go():
    df = _frame()
    preview = preview_step(df, fit_step(df, "drop_missing", {"columns": ["age"]}))
    assert (preview.rows_before, preview.rows_after, preview.rows_affected) == (6, 4, 2)
    assert preview.before.index.tolist() == [1, 3]
    assert preview.after.index.tolist() == [0, 2, 4, 5]
    assert not preview.needs_confirmation


def test_preview_of_a_fill_counts_changed_cells_and_samples_them():
    df = _frame()
    preview = preview_step(df, fit_step(df, "fill_missing", {"column": "age", "strategy": "median"}))
    assert (preview.rows_affected, preview.cells_changed, preview.columns_affected) == (2, 2, ("age",))
    assert preview.before["age"].isna().all()
    assert preview.after["age"].tolist() == [26.0, 26.0]
    assert preview.warnings == ()


def test_preview_of_new_and_dropped_columns():
    df = _frame()
    parts = preview_step(df, fit_step(df, "extract_datetime", {"column": "when", "parts": ["year", "month"]}))
    assert parts.columns_affected == ("when_year", "when_month")
    assert (parts.columns_after, parts.rows_affected) == (5, 5)
    dropped = preview_step(df, fit_step(df, "drop_columns", {"columns": ["city"]}))
    assert dropped.columns_affected == ("city",)
    assert dropped.cells_changed == 6


def test_preview_of_a_rename_and_of_a_step_that_changes_nothing():
    df = _frame()
    renamed = preview_step(df, fit_step(df, "rename_column", {"column": "city", "new_name": "town"}))
    assert renamed.columns_affected == ("city", "town")
    assert list(renamed.after.columns) == ["town"]
    same = preview_step(df, fit_step(df, "trim_whitespace", {"column": "city"}))
    assert same.rows_affected == 0
    assert same.warnings == ("Nothing would change.",)
    pd.testing.assert_frame_equal(apply_step(df, fit_step(df, "trim_whitespace", {"column": "city"})), df)
