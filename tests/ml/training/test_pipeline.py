"""Pipelines take raw rows: numbers written as text, gaps, date strings, unseen categories, free text."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.recipe import Recipe
from csv_processor.ml.training import ALGORITHMS, build_pipeline, fit_model
from csv_processor.ml.training.fit import threads_for

KINDS = {
    "amount": "float",
    "count": "integer",
    "when": "datetime",
    "city": "categorical",
    "ok": "boolean",
    "note": "text",
}


def _raw(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amounts = rng.normal(1000, 300, n).round(2)
    return pd.DataFrame(
        {
            "amount": [f"${a:,.2f}" if i % 7 else " " for i, a in enumerate(amounts)],
            "count": rng.integers(0, 5, n).astype("float64"),
            "when": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y/%m/%d"),
            "city": rng.choice(["Oslo", "Rome", "Lima", None], n),
            "ok": rng.choice(["yes", "no"], n),
            "note": [f"free text number {i} " + "word " * (i % 5) for i in range(n)],
        }
    )


def _unseen() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "amount": ["1,234.5", None, "inf", "n/a"],
            "count": [np.nan, 2.0, np.inf, 1.0],
            "when": ["2030/05/01", "not a date", None, "2020/02/02"],
            "city": ["Paris", None, "Oslo", "Tokyo"],
            "ok": ["maybe", None, "yes", "no"],
            "note": [None, "brand new words", "", "x"],
        }
    )


def _target(df: pd.DataFrame, problem_type: str) -> pd.Series:
    count = df["count"].fillna(0).to_numpy()
    if problem_type == "regression":
        return pd.Series(count * 2.5 + np.arange(len(df)) % 3)
    labels = np.array(["low", "mid", "high"]) if problem_type == "multiclass" else np.array(["no", "yes"])
    return pd.Series(labels[(count.astype(int) + np.arange(len(df))) % len(labels)])


@pytest.mark.parametrize(("problem_type", "algorithm"), [(t, a) for t in ALGORITHMS for a in [*ALGORITHMS[t], "Dummy"]])
def test_build_pipeline_fits_raw_rows_and_predicts_unseen_values(problem_type, algorithm):
    train = _raw(80, seed=1)
    pipeline = build_pipeline(algorithm=algorithm, problem_type=problem_type, feature_types=KINDS, params={}, seed=0)
    pipeline.fit(train, _target(train, problem_type))
    predicted = pipeline.predict(_unseen())
    assert len(predicted) == 4
    if problem_type == "regression":
        assert np.isfinite(predicted).all()
    else:
        assert set(predicted) <= set(_target(train, problem_type))


def test_build_pipeline_scales_only_for_linear_models():
    linear = build_pipeline(algorithm="Ridge", problem_type="regression", feature_types=KINDS, params={}, seed=0)
    tree = build_pipeline(algorithm="RandomForest", problem_type="regression", feature_types=KINDS, params={}, seed=0)
    assert ALGORITHMS["regression"]["Ridge"].needs_scaling
    assert "standardscaler" in linear.named_steps["prepare"].transformers[1][1].named_steps
    assert "standardscaler" not in tree.named_steps["prepare"].transformers[1][1].named_steps


def test_build_pipeline_tells_hist_gradient_boosting_where_the_categories_are():
    pipeline = build_pipeline(
        algorithm="HistGradientBoosting", problem_type="binary", feature_types=KINDS, params={}, seed=0
    )
    assert pipeline.named_steps["model"].categorical_features == [0, 1]


def test_build_pipeline_applies_params_and_rejects_unknown_names():
    pipeline = build_pipeline(
        algorithm="DecisionTree", problem_type="binary", feature_types=KINDS, params={"max_depth": 3}, seed=7
    )
    assert pipeline.named_steps["model"].max_depth == 3
    assert pipeline.named_steps["model"].random_state == 7
    with pytest.raises(ValueError, match="not available") as error:
        build_pipeline(algorithm="Ridge", problem_type="binary", feature_types=KINDS, params={}, seed=0)
    assert "LogisticRegression" in str(error.value)
    with pytest.raises(ValueError, match="Unknown kind"):
        build_pipeline(algorithm="Ridge", problem_type="regression", feature_types={"a": "blob"}, params={}, seed=0)


def test_build_pipeline_replays_the_cleaning_recipe_on_raw_rows():
    train = _raw(60, seed=2).rename(columns={"count": "n"})
    step = fit_step(train, "rename_column", {"column": "n", "new_name": "count"})
    steps = Recipe(steps=(step,)).to_list()
    pipeline = build_pipeline(
        algorithm="DecisionTree", problem_type="regression", feature_types=KINDS, params={}, recipe_steps=steps, seed=0
    )
    pipeline.fit(train, _target(train.rename(columns={"n": "count"}), "regression"))
    assert list(pipeline.named_steps) == ["recipe", "prepare", "model"]
    assert len(pipeline.predict(_unseen().rename(columns={"count": "n"}))) == 4


def test_fit_model_fits_single_threaded_on_small_data_and_times_the_fit():
    train = _raw(50, seed=3)
    fitted = fit_model(
        train, _target(train, "binary"), problem_type="binary", algorithm="RandomForest", feature_types=KINDS
    )
    assert fitted.threads == threads_for(50) == 1
    assert fitted.pipeline.named_steps["model"].n_jobs == 1
    assert 0 < fitted.fit_seconds < 30
    assert len(fitted.pipeline.predict(_unseen())) == 4
