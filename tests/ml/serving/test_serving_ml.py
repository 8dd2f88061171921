"""Pure serving code: input frames and checks, the scoring-protocol reader, PSI drift, explanations."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from csv_processor.ml.serving import InputError, build_input_spec, predict_frame, records_frame
from csv_processor.ml.serving.drift import drift_report, psi, reference_profile, verdict
from csv_processor.ml.serving.explain import explain_rows
from csv_processor.ml.serving.protocol import ProtocolError, scoring_csv, scoring_json

SCHEMA = {
    "age": {"kind": "integer", "role": "numeric", "min": 18.0, "max": 90.0, "median": 40.0},
    "plan": {"kind": "categorical", "role": "categorical", "categories": ["basic", "pro"], "more": False},
}


def spec(problem_type: str = "binary"):
    return build_input_spec(
        columns=["age", "plan", "churn"],
        dtypes={"age": "int64", "plan": "str", "churn": "str"},
        feature_schema=SCHEMA,
        target="churn",
        problem_type=problem_type,
        classes=["no", "yes"],
    )


def test_records_frame_builds_training_dtypes_and_fills_optional_columns():
    prepared = records_frame(spec(), [{"age": 30, "plan": "pro"}, {"age": None, "plan": None}])

    assert list(prepared.frame.columns) == ["age", "plan", "churn"]
    assert prepared.frame["age"].dtype == "float64"
    assert np.isnan(prepared.frame["age"][1])
    assert prepared.frame["plan"].tolist()[0] == "pro"
    assert prepared.frame["churn"].isna().all()
    assert prepared.warnings == [[], []]


def test_records_frame_warns_on_unknown_category_and_far_values():
    prepared = records_frame(spec(), [{"age": 500, "plan": "gold"}])

    assert any("gold" in w for w in prepared.warnings[0])
    assert any("far outside" in w for w in prepared.warnings[0])


@pytest.mark.parametrize(
    ("record", "key"),
    [
        ({"plan": "pro"}, "records[0].age"),
        ({"age": "30", "plan": "pro"}, "records[0].age"),
        ({"age": True, "plan": "pro"}, "records[0].age"),
        ({"age": float("nan"), "plan": "pro"}, "records[0].age"),
        ({"age": 30, "plan": {"a": 1}}, "records[0].plan"),
        ("not a record", "records[0]"),
    ],
)
def test_records_frame_refuses_bad_values_per_field(record, key):
    with pytest.raises(InputError) as caught:
        records_frame(spec(), [record])

    assert key in caught.value.errors


def test_records_frame_reads_numbers_from_text_when_asked():
    prepared = records_frame(spec(), [{"age": " 1,000 ", "plan": "pro"}, {"age": "", "plan": "pro"}], text_values=True)

    assert prepared.frame["age"].tolist()[0] == 1000.0
    assert np.isnan(prepared.frame["age"][1])


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]], "index": [0]}},
        {"dataframe_records": [{"a": 1, "b": 2}]},
        {"instances": [{"a": 1, "b": 2}]},
        {"inputs": {"a": [1], "b": [2]}},
    ],
)
def test_scoring_json_reads_every_format(payload):
    assert scoring_json(payload).records == [{"a": 1, "b": 2}]


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {},
        {"inputs": [], "instances": []},
        {"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}},
        {"inputs": {"a": [1], "b": [1, 2]}},
    ],
)
def test_scoring_json_refuses_malformed_payloads(payload):
    with pytest.raises(ProtocolError):
        scoring_json(payload)


def test_scoring_csv_keeps_text_and_missing_values():
    assert scoring_csv(b"a,b\n1,\n").records == [{"a": "1", "b": None}]


def test_scoring_csv_reads_a_single_column():
    assert scoring_csv(b"a\n1\n\n").records == [{"a": "1"}]
    assert scoring_csv(b"a\n").records == []


def test_psi_is_zero_for_the_same_shares_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"age": rng.normal(40, 10, 5000), "plan": rng.choice(["basic", "pro"], 5000)})
    profile = reference_profile(train, spec())
    same = pd.DataFrame({"age": rng.normal(40, 10, 5000), "plan": rng.choice(["basic", "pro"], 5000)})
    shifted = pd.DataFrame({"age": rng.normal(60, 10, 5000), "plan": ["gold"] * 5000})

    calm = {d.feature: d for d in drift_report(profile, same)}
    moved = {d.feature: d for d in drift_report(profile, shifted)}

    assert psi([0.5, 0.5], [0.5, 0.5]) == 0
    assert calm["age"].verdict == "stable"
    assert calm["plan"].verdict == "stable"
    assert moved["age"].verdict == "major shift"
    assert moved["plan"].verdict == "major shift"
    assert verdict(0.15) == "moderate shift"


def test_explanations_rank_the_feature_that_moved_the_prediction():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = np.where(X["a"] > 0, "yes", "no")
    pipeline = make_pipeline(LogisticRegression()).fit(X, y)
    schema = {n: {"role": "numeric", "kind": "float", "min": -3.0, "max": 3.0, "median": 0.0} for n in "ab"}
    model_spec = build_input_spec(
        columns=["a", "b"], dtypes={}, feature_schema=schema, target="y", problem_type="binary", classes=["no", "yes"]
    )
    frame = records_frame(model_spec, [{"a": 2.5, "b": 0.1}]).frame

    predicted = predict_frame(pipeline, frame, problem_type="binary")
    explained = explain_rows(pipeline, frame, model_spec, predicted)

    assert predicted.labels == ["yes"]
    assert explained[0][0]["feature"] == "a"
    assert explained[0][0]["effect"] > 0.3


def date_spec():
    schema = {"day": {"kind": "datetime", "role": "datetime", "min": "2020-01-01", "max": "2021-01-01"}}
    return build_input_spec(
        columns=["day"], dtypes={"day": "str"}, feature_schema=schema, target="y", problem_type="regression", classes=[]
    )


@pytest.mark.parametrize("value", ["not a date", "2020-02-30", "12", 20200715, True])
def test_records_frame_refuses_a_date_column_value_that_is_no_date(value):
    with pytest.raises(InputError) as caught:
        records_frame(date_spec(), [{"day": value}], text_values=True)

    assert "records[0].day" in caught.value.errors


def test_records_frame_takes_dates_in_any_notation_and_warns_when_day_and_month_could_swap():
    prepared = records_frame(date_spec(), [{"day": "2020-07-15"}, {"day": "07/15/2020"}, {"day": ""}, {"day": None}])
    swapped = records_frame(date_spec(), [{"day": "03/04/2020"}])

    assert prepared.warnings == [[], [], [], []]
    assert any("day/month or month/day" in w for w in swapped.warnings[0])
