"""Log-transformed targets, the first trial, blends of the best trials and the stacked permutation importance."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_iris

from csv_processor.ml.training import TrainConfig, build_pipeline, train
from csv_processor.ml.training.blend import ENSEMBLE, plan_blend
from csv_processor.ml.training.finalize import pipeline_for
from csv_processor.ml.training.importance import raw_importance
from csv_processor.ml.training.search import SearchData, Trial
from csv_processor.ml.training.split import cv_folds
from csv_processor.ml.training.target import LogTarget, log_target_suits

KINDS = {"a": "float", "b": "float", "noise": "float"}


def _skewed(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """A price-like target: multiplicative in the features, so a linear model fits log(y) exactly."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "noise": rng.normal(0, 1, n)})
    frame["price"] = np.exp(10 + 0.9 * frame["a"] + 0.6 * frame["b"] + rng.normal(0, 0.05, n))
    return frame


def _board(result) -> list[tuple]:
    return [
        (c.algorithm, repr(sorted(c.params.items())), round(c.cv_mean, 12), c.test_score) for c in result.leaderboard
    ]


def test_log_target_suits_only_positive_right_skewed_targets():
    prices = _skewed()["price"]
    assert log_target_suits(prices)
    assert not log_target_suits(prices - prices.median())
    assert not log_target_suits(pd.Series(np.random.default_rng(0).normal(50, 5, 400)))
    assert not log_target_suits(pd.Series([1.0, np.inf, 3.0, 4.0]))


def test_log_target_inverse_is_clipped_to_the_training_range():
    transform = LogTarget().fit(np.array([[10.0], [1000.0]]))
    assert transform.inverse_transform(np.log([[100.0]]))[0, 0] == pytest.approx(100.0)
    assert np.isfinite(transform.inverse_transform(np.array([[1e6]]))).all()
    assert transform.inverse_transform(np.array([[1e6]]))[0, 0] == pytest.approx(1000.0 * np.e)


def test_build_pipeline_wraps_a_log_target_regressor_and_refuses_it_for_classifiers():
    pipeline = build_pipeline(
        algorithm="HistGradientBoosting",
        problem_type="regression",
        feature_types=KINDS,
        params={"log_target": True, "max_iter": 20},
        seed=0,
    )
    model = pipeline.named_steps["model"]
    assert isinstance(model, TransformedTargetRegressor)
    assert model.regressor.max_iter == 20
    with pytest.raises(ValueError, match="regression only"):
        build_pipeline(
            algorithm="DecisionTree", problem_type="binary", feature_types=KINDS, params={"log_target": True}, seed=0
        )


def test_train_chooses_the_log_target_when_cross_validation_prefers_it():
    config = TrainConfig(target="price", problem_type="regression", algorithms=("LinearRegression",), budget_seconds=20)
    result = train(_skewed(), config)
    assert [t.params for t in result.trials[:2]] == [{}, {"log_target": True}]
    assert result.trials[1].cv_mean > result.trials[0].cv_mean + 0.02
    assert result.best.params == {"log_target": True}
    assert result.best.test_score > 0.99


def test_train_does_not_try_a_log_target_on_a_symmetric_target():
    frame = _skewed().assign(price=lambda f: 3 * f["a"] + f["b"])
    result = train(
        frame, TrainConfig(target="price", problem_type="regression", algorithms=("Ridge",), budget_seconds=10)
    )
    assert not any("log_target" in t.params for t in result.trials)


def test_train_fits_the_default_histgradientboosting_first():
    iris = load_iris(as_frame=True).frame
    result = train(iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=5))
    assert (result.trials[0].algorithm, result.trials[0].params) == ("HistGradientBoosting", {})


@pytest.mark.slow
def test_train_with_log_target_and_blends_is_deterministic():
    config = TrainConfig(
        target="price", problem_type="regression", algorithms=("DecisionTree", "Ridge"), budget_seconds=120, seed=2
    )
    first, second = train(_skewed(), config), train(_skewed(), config)
    # Well inside the budget: the whole plan ran, so the budget did not cut either run short.
    assert first.elapsed_seconds < 120 * 0.5
    assert _board(first) == _board(second)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]


def _data(problem_type: str, y: pd.Series) -> SearchData:
    X = pd.DataFrame({"a": np.arange(len(y), dtype=float)})
    folds = cv_folds(y, problem_type=problem_type, folds=4, seed=0)
    return SearchData(X=X, y=y, problem_type=problem_type, kinds={"a": "float"}, folds=folds, seed=0, n_jobs=1)


def _trial(data: SearchData, name: str, oof: np.ndarray, params: dict | None = None) -> Trial:
    from csv_processor.ml.training.evaluation import main_score

    y = data.y.to_numpy()
    decided = oof if data.problem_type == "regression" else data.classes[np.argmax(oof, axis=1)]
    scores = tuple(main_score(data.problem_type, y[val], decided[val]) for _, val in data.folds)
    return Trial(name, params or {}, scores, 0.01, 0.001, True, oof=oof)


def test_plan_blend_averages_models_whose_errors_cancel():
    rng = np.random.default_rng(0)
    y = pd.Series(rng.normal(0, 1, 400))
    data = _data("regression", y)
    error = rng.normal(0, 0.5, 400)
    trials = [_trial(data, "Ridge", y.to_numpy() + error), _trial(data, "DecisionTree", y.to_numpy() - error)]
    plan = plan_blend(trials, data)
    assert plan is not None
    assert plan.algorithm == ENSEMBLE
    assert {m.algorithm for m in plan.members} == {"Ridge", "DecisionTree"}
    assert sum(plan.weights) == pytest.approx(1.0)
    assert plan.cv_mean > max(t.cv_mean for t in trials) + 0.1


def test_plan_blend_keeps_the_single_best_when_the_others_only_add_noise():
    rng = np.random.default_rng(1)
    y = pd.Series(rng.normal(0, 1, 400))
    data = _data("regression", y)
    trials = [_trial(data, "Ridge", y.to_numpy()), _trial(data, "DecisionTree", rng.normal(0, 1, 400))]
    assert plan_blend(trials, data) is None


def test_blend_pipeline_refits_its_members_and_predicts_classes():
    iris = load_iris(as_frame=True).frame
    y = iris["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"]))).astype(object)
    X = iris.drop(columns=["target"])
    kinds = dict.fromkeys(X.columns, "float")
    data = SearchData(
        X=X,
        y=y,
        problem_type="multiclass",
        kinds=kinds,
        folds=cv_folds(y, problem_type="multiclass", folds=3, seed=0),
        seed=0,
        n_jobs=1,
    )
    proba = np.full((len(y), 3), 1 / 3)
    trials = [_trial(data, "LogisticRegression", proba.copy()), _trial(data, "DecisionTree", proba.copy())]
    from csv_processor.ml.training.blend import BlendPlan

    plan = BlendPlan(tuple(trials), (0.5, 0.5), (1.0,))
    pipeline = pipeline_for(data, plan).fit(X, y)
    assert list(pipeline.classes_) == ["setosa", "versicolor", "virginica"]
    assert list(pipeline.feature_names_in_) == list(X.columns)
    assert pipeline.predict_proba(X).sum(axis=1) == pytest.approx(np.ones(len(X)))
    assert (pipeline.predict(X) == y.to_numpy()).mean() > 0.95


def test_raw_importance_ranks_the_signal_above_the_noise():
    frame = _skewed(300)
    pipeline = build_pipeline(algorithm="Ridge", problem_type="regression", feature_types=KINDS, params={}, seed=0)
    X, y = frame[list(KINDS)], np.log(frame["price"])
    pipeline.fit(X, y)
    rows = raw_importance(pipeline, X, y, problem_type="regression", features=tuple(KINDS), seed=0, repeats=2)
    assert [row["feature"] for row in rows] == ["a", "b", "noise"]
    assert rows[0]["importance"] > 0.5
    assert abs(rows[2]["importance"]) < 0.01
    assert rows == raw_importance(pipeline, X, y, problem_type="regression", features=tuple(KINDS), seed=0, repeats=2)


def test_train_with_a_single_algorithm_never_returns_a_blend():
    iris = load_iris(as_frame=True).frame
    config = TrainConfig(target="target", problem_type="multiclass", algorithms=("DecisionTree",), budget_seconds=5)
    result = train(iris, config)
    assert len({t.params.__repr__() for t in result.trials}) > 1
    assert [c.algorithm for c in result.leaderboard] == ["DecisionTree"]
