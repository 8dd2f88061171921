"""The compiled pipeline answers exactly as the fitted Pipeline, for every algorithm and column role."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from csv_processor.ml.serving import build_input_spec, predict_frame, records_frame
from csv_processor.ml.serving.compiled import agrees_with_pipeline, compile_pipeline, probe_records
from csv_processor.ml.training.pipeline import ALGORITHMS, build_pipeline

KINDS = {"size": "float", "rooms": "integer", "plan": "categorical", "joined": "datetime", "note": "text"}


def table(problem_type: str, rows: int = 240) -> tuple[pd.DataFrame, pd.Series]:
    """Raw rows as they come from a CSV: gaps in every column, dates and numbers as text in places."""
    rng = np.random.default_rng(3)
    size = rng.uniform(20, 200, rows)
    plan = rng.choice(["basic", "pro", "team", "edu"], rows, p=[0.5, 0.3, 0.17, 0.03])
    frame = pd.DataFrame(
        {
            "size": np.where(rng.random(rows) < 0.1, np.nan, size),
            "rooms": rng.integers(1, 6, rows).astype("float64"),
            "plan": np.where(rng.random(rows) < 0.08, None, plan).astype(object),
            "joined": pd.Series(pd.date_range("2020-01-01", periods=rows, freq="3D").strftime("%Y-%m-%d")),
            "note": rng.choice(["ok", "call me back please", "", "late again"], rows).astype(object),
        }
    )
    score = size / 50 + (plan == "pro") * 1.5 + rng.normal(scale=0.4, size=rows)
    if problem_type == "regression":
        return frame, pd.Series(score * 10, name="y")
    labels = ["low", "mid", "high"] if problem_type == "multiclass" else ["no", "yes"]
    cuts = np.quantile(score, [1 / 3, 2 / 3]) if problem_type == "multiclass" else [np.median(score)]
    return frame, pd.Series(np.array(labels)[np.digitize(score, cuts)], name="y")


def spec_for(frame: pd.DataFrame, problem_type: str, classes: list):
    schema = {
        "size": {"role": "numeric", "min": 20.0, "max": 200.0, "median": 110.0},
        "rooms": {"role": "numeric", "min": 1.0, "max": 5.0, "median": 3.0},
        "plan": {"role": "categorical", "categories": ["basic", "pro", "team", "edu"], "more": False},
        "joined": {"role": "datetime", "min": "2020-01-01", "max": "2022-01-01"},
        "note": {"role": "text"},
    }
    dtypes = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    return build_input_spec(
        columns=list(frame.columns),
        dtypes=dtypes,
        feature_schema=schema,
        target="y",
        problem_type=problem_type,
        classes=classes,
    )


CASES = [
    (problem_type, name) for problem_type in ("binary", "multiclass", "regression") for name in ALGORITHMS[problem_type]
]


@pytest.mark.slow
@pytest.mark.parametrize(("problem_type", "algorithm"), CASES)
def test_compiled_pipeline_answers_as_the_pipeline(problem_type, algorithm):
    X, y = table(problem_type)
    pipeline = build_pipeline(
        algorithm=algorithm, problem_type=problem_type, feature_types=KINDS, params={}, seed=0
    ).fit(X, y)
    spec = spec_for(X, problem_type, sorted(set(y)) if problem_type != "regression" else [])
    records = [
        *probe_records(spec, rows=12),
        {"size": 75.5, "rooms": 2, "plan": "pro", "joined": "2021-05-04", "note": "hello there"},
        {"size": None, "rooms": 9, "plan": "gold", "joined": None, "note": None},
        {"size": 1e6, "rooms": 3, "plan": 1, "joined": "2030-12-31", "note": ""},
        {"size": 1e39, "rooms": 3, "plan": "team", "joined": "2021-01-01", "note": "beyond float32"},
    ]

    compiled = compile_pipeline(pipeline, problem_type=problem_type)
    prepared = records_frame(spec, records)
    expected = predict_frame(pipeline, prepared.frame, problem_type=problem_type)
    got = compiled.answer(prepared.columns)

    assert compiled is not None
    assert agrees_with_pipeline(compiled, pipeline, prepared)
    if problem_type != "regression":
        assert got.labels == expected.labels
    np.testing.assert_allclose(got.scores, expected.scores, rtol=1e-9)


def test_a_pipeline_without_a_column_step_is_not_compiled():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]})
    pipeline = make_pipeline(LogisticRegression()).fit(X, ["n", "n", "y", "y"])

    assert compile_pipeline(pipeline, problem_type="binary") is None
    assert compile_pipeline(LogisticRegression(), problem_type="binary") is None


def test_a_compiled_pipeline_that_drifted_from_its_pipeline_is_caught():
    X, y = table("binary")
    pipeline = build_pipeline(
        algorithm="LogisticRegression", problem_type="binary", feature_types=KINDS, params={}, seed=0
    ).fit(X, y)
    spec = spec_for(X, "binary", ["no", "yes"])
    compiled = compile_pipeline(pipeline, problem_type="binary")

    pipeline.steps[-1][1].coef_ = -pipeline.steps[-1][1].coef_

    assert not agrees_with_pipeline(compiled, pipeline, records_frame(spec, probe_records(spec)))


@pytest.mark.slow
@pytest.mark.parametrize("problem_type", ["multiclass", "regression"])
def test_a_blend_of_pipelines_is_compiled_member_by_member(problem_type):
    from sklearn.pipeline import Pipeline

    from csv_processor.ml.training.ensemble import Blend

    X, y = table(problem_type)
    names = ("Ridge" if problem_type == "regression" else "LogisticRegression", "HistGradientBoosting")
    members = [
        (n, build_pipeline(algorithm=n, problem_type=problem_type, feature_types=KINDS, params={}, seed=0))
        for n in names
    ]
    pipeline = Pipeline([("model", Blend(members, [0.3, 0.7], problem_type))]).fit(X, y)
    spec = spec_for(X, problem_type, sorted(set(y)) if problem_type != "regression" else [])

    compiled = compile_pipeline(pipeline, problem_type=problem_type)

    assert type(compiled).__name__ == "CompiledBlend"
    assert agrees_with_pipeline(compiled, pipeline, records_frame(spec, probe_records(spec, rows=10)))


@pytest.mark.parametrize("problem_type", ["multiclass", "regression"])
def test_numeric_boosting_trees_are_walked_together_and_agree(problem_type):
    X, y = table(problem_type)
    numeric = {"size": "float", "rooms": "integer"}
    X = X[list(numeric)]
    pipeline = build_pipeline(
        algorithm="HistGradientBoosting", problem_type=problem_type, feature_types=numeric, params={}, seed=0
    ).fit(X, y)
    spec = spec_for(X, problem_type, sorted(set(y)) if problem_type != "regression" else [])

    compiled = compile_pipeline(pipeline, problem_type=problem_type)

    assert compiled.estimator.forest is not None
    assert agrees_with_pipeline(compiled, pipeline, records_frame(spec, probe_records(spec, rows=10)))


def test_compiled_pipeline_reads_dates_in_any_notation_as_the_pipeline_does():
    X, y = table("regression")
    X["joined"] = pd.to_datetime(X["joined"]).dt.strftime("%m/%d/%Y")  # the training file writes US dates
    pipeline = build_pipeline(algorithm="Ridge", problem_type="regression", feature_types=KINDS, params={}, seed=0).fit(
        X, y
    )
    spec = spec_for(X, "regression", [])
    base = {"size": 75.5, "rooms": 2, "plan": "pro", "note": "hello"}
    notations = ["07/15/2021", "2021-07-15", "15-Jul-2021", "July 15, 2021", "2021/07/15"]
    records = [*({**base, "joined": day} for day in notations), {**base, "joined": None}]

    compiled = compile_pipeline(pipeline, problem_type="regression")
    prepared = records_frame(spec, [*probe_records(spec), *records])
    got = compiled.answer(prepared.columns).scores[-len(records) :]

    assert agrees_with_pipeline(compiled, pipeline, prepared)
    np.testing.assert_allclose(got[:-1], got[0], rtol=1e-12)
    assert got[0] != got[-1]  # a date, not the missing value's answer
