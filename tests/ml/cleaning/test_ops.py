"""Each cleaning op: the happy path, a missing column, a wrong-type condition, and lossy conversions."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.preview import preview_step
from csv_processor.ml.cleaning.schema import OPS, CleaningError, op_schema
from csv_processor.ml.cleaning.step import Step


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [22.0, np.nan, 35.0, 58.0, np.nan, 4.0],
            "name": [" Ann", "Bob ", "cy", "Dee", "Ed", "Flo"],
            "installs": ["1,000+", "$4.99", "19M", "1,000,000+", None, "7"],
            "when": ["2020-01-02", "2020-02-03 04:05:06", "2021-03-04", None, "2022-05-06", "2023-07-08 09:10:11"],
            "answer": ["yes", "no", "Yes", "no", None, "yes"],
            "code": [1, -200, 3, -200, 5, 999],
        }
    )


HAPPY = [
    ("delete_rows", {"positions": [0, 2]}, lambda df: df.iloc[[1, 3, 4, 5]]),
    ("delete_rows_where", {"column": "age", "condition": "greater_than", "value": 30}, lambda df: df[~(df.age > 30)]),
    ("delete_rows_where", {"column": "age", "condition": "is_missing"}, lambda df: df[df.age.notna()]),
    ("delete_rows_where", {"column": "name", "condition": "contains", "value": "o"}, lambda df: df.iloc[[0, 2, 3, 4]]),
    ("delete_rows_where", {"column": "code", "condition": "equals", "value": "-200"}, lambda df: df[df.code != -200]),
    ("drop_duplicates", {"columns": ["answer"]}, lambda df: df.drop_duplicates(subset=["answer"])),
    ("drop_columns", {"columns": ["name", "code"]}, lambda df: df.drop(columns=["name", "code"])),
    ("rename_column", {"column": "age", "new_name": "Age"}, lambda df: df.rename(columns={"age": "Age"})),
    ("drop_missing", {"columns": ["age"]}, lambda df: df.dropna(subset=["age"])),
    ("drop_missing", {}, lambda df: df.dropna()),
    ("remove_outliers", {"column": "code", "method": "iqr"}, None),
]


@pytest.mark.parametrize(("op", "params", "expected"), HAPPY)
def test_apply_step_matches_plain_pandas(frame, op, params, expected):
    result = apply_step(frame, fit_step(frame, op, params))
    if expected is not None:
        pd.testing.assert_frame_equal(result, expected(frame))
    assert Step.from_dict(fit_step(frame, op, params).to_dict()) == fit_step(frame, op, params)


def test_apply_step_never_mutates_its_input(frame):
    before = frame.copy()
    for op, params in [
        ("fill_missing", {"column": "age", "strategy": "mean"}),
        ("trim_whitespace", {"column": "name"}),
    ]:
        apply_step(frame, fit_step(frame, op, params))
    pd.testing.assert_frame_equal(frame, before)


def test_to_number_parses_formatted_numbers(frame):
    result = apply_step(frame, fit_step(frame, "to_number", {"column": "installs"}))
    assert result["installs"].tolist()[:4] == [1000.0, 4.99, 19e6, 1e6]
    assert result["installs"].dtype == "float64"


def test_to_number_detects_the_decimal_comma():
    df = pd.DataFrame({"x": ["1,5", "2,25", "1.000,5"]})
    step = fit_step(df, "to_number", {"column": "x"})
    assert step.params["decimal"] == ","
    assert apply_step(df, step)["x"].tolist() == [1.5, 2.25, 1000.5]


def test_to_datetime_stores_the_detected_format(frame):
    step = fit_step(frame, "to_datetime", {"column": "when"})
    assert step.params["formats"] == ["ISO8601"]
    result = apply_step(frame, step)["when"]
    assert result.dt.year.tolist()[:3] == [2020, 2020, 2021]
    assert result.isna().sum() == 1


def test_to_datetime_with_a_given_format():
    df = pd.DataFrame({"d": ["31/12/2020", "01/02/2021", "bad"]})
    step = fit_step(df, "to_datetime", {"column": "d", "formats": ["%d/%m/%Y"]})
    assert apply_step(df, step)["d"].dt.month.tolist()[:2] == [12, 2]


def test_to_boolean_detects_yes_no_in_any_case(frame):
    step = fit_step(frame, "to_boolean", {"column": "answer"})
    result = apply_step(frame, step)["answer"]
    assert result.dtype == "boolean"
    assert result.tolist() == [True, False, True, False, pd.NA, True]


def test_to_category_keeps_unseen_values_on_replay(frame):
    step = fit_step(frame, "to_category", {"column": "answer"})
    new = pd.DataFrame({"answer": ["maybe", "yes"]})
    assert apply_step(new, step)["answer"].tolist() == ["maybe", "yes"]


@pytest.mark.parametrize(
    ("strategy", "value"), [("mean", 29.75), ("median", 28.5), ("most_frequent", 4.0), ("constant", 0.0)]
)
def test_fill_missing_stores_the_fitted_value(frame, strategy, value):
    params = {"column": "age", "strategy": strategy} | ({"value": "0"} if strategy == "constant" else {})
    step = fit_step(frame, "fill_missing", params)
    assert step.params["value"] == value
    # Replay uses the training value, not one computed from the new rows.
    new = pd.DataFrame({"age": [np.nan, 100.0]})
    assert apply_step(new, step)["age"].tolist() == [value, 100.0]


def test_fill_missing_forward_fill(frame):
    result = apply_step(frame, fit_step(frame, "fill_missing", {"column": "age", "strategy": "ffill"}))
    assert result["age"].tolist() == [22.0, 22.0, 35.0, 58.0, 58.0, 4.0]


def test_fill_missing_text_with_most_frequent(frame):
    step = fit_step(frame, "fill_missing", {"column": "answer", "strategy": "most_frequent"})
    assert apply_step(frame, step)["answer"].tolist()[4] == "no"


def test_replace_values_turns_sentinels_into_missing(frame):
    step = fit_step(frame, "replace_values", {"column": "code", "values": [-200, 999]})
    assert apply_step(frame, step)["code"].isna().tolist() == [False, True, False, True, False, True]
    text = fit_step(frame, "replace_values", {"column": "answer", "values": ["no"], "new_value": "nope"})
    assert apply_step(frame, text)["answer"].tolist()[1] == "nope"


def test_trim_and_change_case(frame):
    trimmed = apply_step(frame, fit_step(frame, "trim_whitespace", {"column": "name"}))
    assert trimmed["name"].tolist()[:2] == ["Ann", "Bob"]
    upper = apply_step(frame, fit_step(frame, "change_case", {"column": "name", "case": "upper"}))
    assert upper["name"].tolist()[2] == "CY"


def _expected_bounds(values: np.ndarray, method: str, factor: float) -> tuple[float, float]:
    if method == "iqr":
        q1, q3 = np.percentile(values, [25, 75])
        return q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
    return values.mean() - factor * values.std(), values.mean() + factor * values.std()


@pytest.mark.parametrize(("method", "factor"), [("iqr", 1.5), ("zscore", 2.0)])
def test_clip_outliers_stores_the_bounds(frame, method, factor):
    step = fit_step(frame, "clip_outliers", {"column": "code", "method": method, "factor": factor})
    lower, upper = _expected_bounds(frame["code"].to_numpy(dtype=float), method, factor)
    assert step.params["lower"] == pytest.approx(lower)
    assert step.params["upper"] == pytest.approx(upper)
    clipped = apply_step(frame, step)["code"]
    assert clipped.max() == pytest.approx(min(upper, 999))
    assert clipped.min() == pytest.approx(max(lower, -200))


def test_extract_datetime_adds_part_columns(frame):
    dated = apply_step(frame, fit_step(frame, "to_datetime", {"column": "when"}))
    step = fit_step(dated, "extract_datetime", {"column": "when", "parts": ["year", "weekday", "hour"]})
    result = apply_step(dated, step)
    assert result["when_year"].tolist()[0] == 2020
    assert result["when_hour"].tolist()[1] == 4


@pytest.mark.parametrize(
    ("op", "params"),
    [(spec.op, {p.name: "age" for p in spec.params if p.kind == "column"}) for spec in OPS.values()],
)
def test_every_op_names_a_missing_column(frame, op, params):
    gone = frame.drop(columns=["age"])
    full = {
        "delete_rows_where": {"condition": "is_missing"},
        "fill_missing": {"strategy": "median"},
        "replace_values": {"values": [1]},
        "change_case": {"case": "lower"},
        "extract_datetime": {"parts": ["year"]},
        "rename_column": {"new_name": "x"},
        "drop_columns": {"columns": ["age"]},
        "drop_duplicates": {"columns": ["age"]},
        "drop_missing": {"columns": ["age"]},
        "delete_rows": {"positions": [99]},
    }.get(op, {})
    with pytest.raises(CleaningError) as error:
        fit_step(gone, op, params | full)
    assert "age" in str(error.value) or "Row 100" in str(error.value)


@pytest.mark.parametrize(
    ("op", "params", "message"),
    [
        ("delete_rows_where", {"column": "name", "condition": "less_than", "value": 3}, "needs numbers or dates"),
        ("delete_rows_where", {"column": "age", "condition": "equals", "value": "old"}, "is not a number"),
        ("delete_rows_where", {"column": "age", "condition": "contains", "value": "2"}, "needs text"),
        ("delete_rows_where", {"column": "age", "condition": "greater_than"}, "needs a value"),
        ("fill_missing", {"column": "name", "strategy": "median"}, "not numbers"),
        ("trim_whitespace", {"column": "age"}, "not text"),
        ("clip_outliers", {"column": "name"}, "not numbers"),
        ("extract_datetime", {"column": "when", "parts": ["year"]}, "convert it to date/time first"),
        ("to_boolean", {"column": "name"}, "Say which values"),
        ("change_case", {"column": "name", "case": "shout"}, "must be one of"),
        ("rename_column", {"column": "age", "new_name": "name"}, "already exists"),
        ("nonsense", {}, "Unknown cleaning operation"),
        ("drop_columns", {"columns": ["age"], "extra": 1}, "Unknown parameter"),
    ],
)
def test_fit_step_rejects_bad_requests_with_a_clear_message(frame, op, params, message):
    with pytest.raises(CleaningError) as error:
        fit_step(frame, op, params)
    assert message in str(error.value)


def test_lossy_conversion_needs_confirmation():
    df = pd.DataFrame({"size": ["19M", "Varies with device", "Varies with device", "2.5M", " ", None]})
    preview = preview_step(df, fit_step(df, "to_number", {"column": "size"}))
    assert preview.values_lost == 2
    assert preview.needs_confirmation
    assert "2 of 4 values" in preview.warnings[0]
    assert '"Varies with device"' in preview.warnings[0]


def test_small_loss_needs_no_confirmation():
    df = pd.DataFrame({"total": [str(i) for i in range(20)] + [" ", "oops"]})
    preview = preview_step(df, fit_step(df, "to_number", {"column": "total"}))
    assert (preview.values_lost, preview.needs_confirmation) == (1, False)


def test_step_from_dict_rejects_unfitted_and_malformed_steps():
    with pytest.raises(CleaningError, match="needs a value"):
        Step.from_dict({"op": "fill_missing", "params": {"column": "a", "strategy": "mean"}})
    with pytest.raises(CleaningError, match="exactly"):
        Step.from_dict({"op": "drop_columns"})
    with pytest.raises(CleaningError, match="needs the parameter 'lower'"):
        Step.from_dict({"op": "clip_outliers", "params": {"column": "a"}})


def test_step_describe_reads_as_plain_words(frame):
    step = fit_step(frame, "fill_missing", {"column": "age", "strategy": "median"})
    assert step.describe() == 'Fill missing "age" with the median (28.5)'
    assert not step.training_only
    assert fit_step(frame, "drop_duplicates", {}).training_only


def test_op_schema_lists_every_op_with_its_params():
    schema = {entry["op"]: entry for entry in op_schema()}
    assert set(schema) == set(OPS)
    assert [p["name"] for p in schema["fill_missing"]["params"]] == ["column", "strategy", "value"]
