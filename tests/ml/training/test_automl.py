"""Auto mode: budget, determinism, cancellation, baseline, split replay and the result's parts."""

import math
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris

from csv_processor.ml.training import Cancelled, TrainConfig, TrainingBlocked, train
from csv_processor.ml.training.finalize import refit_params
from csv_processor.ml.training.search import Trial

# Type inference, preflight, the test-split refit and permutation importance run outside the search
# and are not cut short by the budget; on these small frames they take well under a second.
FIXED_OVERHEAD = 1.0


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    return frame


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    return load_diabetes(as_frame=True).frame


def _board(result) -> list[tuple]:
    return [(c.algorithm, sorted(c.params.items()), round(c.cv_mean, 12), c.test_score) for c in result.leaderboard]


def test_train_respects_a_small_budget_and_reports_progress(iris):
    reports = []
    start = time.perf_counter()
    result = train(
        iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=5), progress=reports.append
    )
    elapsed = time.perf_counter() - start
    assert elapsed <= 5 * 1.1 + FIXED_OVERHEAD
    assert result.baseline.algorithm == "Dummy"
    assert result.best.test_score >= result.baseline.test_score + 0.3
    assert {r.stage for r in reports} >= {"preflight", "search", "refit", "importance", "done"}
    search = [r for r in reports if r.stage == "search"]
    assert search[0].candidate == 1
    assert search[0].total >= len(search)
    assert all(0 <= r.remaining <= 5 for r in reports)


def test_train_leaderboard_has_one_row_per_algorithm_best_first(iris):
    result = train(iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=5))
    names = [c.algorithm for c in result.leaderboard]
    assert len(names) == len(set(names))
    assert result.leaderboard[0] == result.best
    assert result.best.cv_mean >= max(c.cv_mean for c in result.leaderboard if c.test_score is not None) - 1e-9
    assert result.class_labels == ["setosa", "versicolor", "virginica"]


@pytest.mark.slow
def test_train_is_deterministic_for_the_same_seed(diabetes):
    config = TrainConfig(
        target="target", problem_type="regression", algorithms=("DecisionTree", "Ridge"), budget_seconds=30, seed=3
    )
    first, second = train(diabetes, config), train(diabetes, config)
    assert _board(first) == _board(second)
    assert [t.params for t in first.trials] == [t.params for t in second.trials]
    assert first.split["test_hash"] == second.split["test_hash"]
    # The plan ran out before the budget did, on both runs: the clock chose nothing (however loaded the machine).
    assert first.candidates_tried == second.candidates_tried
    assert max(first.elapsed_seconds, second.elapsed_seconds) < 30


def test_train_cancel_stops_between_trials(iris):
    calls = []

    def should_cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        train(
            iris,
            TrainConfig(target="target", problem_type="multiclass", budget_seconds=30),
            should_cancel=should_cancel,
        )
    assert len(calls) == 4


def test_train_blocks_impossible_data_with_the_preflight_reason(iris):
    one_class = iris.assign(target="setosa")
    with pytest.raises(TrainingBlocked) as error:
        train(one_class, TrainConfig(target="target", problem_type="multiclass", budget_seconds=5))
    assert [p.code for p in error.value.preflight.problems] == ["one_class"]


def test_train_replays_a_recorded_test_split(diabetes):
    config = TrainConfig(target="target", problem_type="regression", algorithms=("Ridge",), budget_seconds=5, seed=1)
    first = train(diabetes, config)
    again = train(diabetes, replace(config, seed=2, test_index=tuple(first.split["test_index"])))
    assert again.split["test_hash"] == first.split["test_hash"]
    assert again.split["n_test"] == first.split["n_test"] == math.ceil(0.2 * len(diabetes))


def test_train_regression_result_parts(diabetes):
    result = train(diabetes, TrainConfig(target="target", problem_type="regression", budget_seconds=4))
    assert set(result.metrics) == {"r2", "rmse", "mae"}
    assert result.metrics["r2"] == result.best.test_score
    assert len(result.plots["predicted_vs_actual"]["actual"]) == result.split["n_test"]
    assert {row["feature"] for row in result.importance} == set(result.features)
    assert result.feature_schema["bmi"]["role"] == "numeric"
    assert result.feature_schema["bmi"]["min"] < result.feature_schema["bmi"]["max"]
    assert "average" in result.model_card["performance"]


def test_train_on_raw_text_rows_with_a_recipe_and_predicts_raw_rows():
    rng = np.random.default_rng(0)
    n = 200
    raw = pd.DataFrame(
        {
            "Total Charges": [f"{v:,.2f}" if i % 20 else " " for i, v in enumerate(rng.uniform(10, 5000, n))],
            "signup": pd.date_range("2021-01-01", periods=n, freq="D").strftime("%d/%m/%Y"),
            "plan": rng.choice(["basic", "pro", None], n),
        }
    )
    raw["churn"] = np.where(raw["plan"].eq("basic") ^ (rng.random(n) < 0.1), "Yes", "No")
    from csv_processor.ml.cleaning.fitting import fit_step
    from csv_processor.ml.cleaning.recipe import Recipe

    recipe = Recipe(steps=(fit_step(raw, "rename_column", {"column": "Total Charges", "new_name": "total"}),))
    config = TrainConfig(target="churn", problem_type="binary", budget_seconds=4, recipe_steps=tuple(recipe.to_list()))
    result = train(raw, config)
    assert result.feature_schema["total"]["kind"] == "float"
    assert result.feature_schema["signup"]["role"] == "datetime"
    assert result.best.test_score >= 0.8
    assert set(result.pipeline.predict(raw.drop(columns=["churn"]).head(3))) <= {"Yes", "No"}


@pytest.mark.slow
def test_train_titanic_beats_the_baseline_and_reads_the_raw_file(shared_datasets):
    titanic = pd.read_csv(shared_datasets / "titanic_train.csv")
    result = train(titanic, TrainConfig(target="Survived", problem_type="binary", budget_seconds=8))
    assert "PassengerId" not in result.features
    assert "Name" not in result.features
    assert result.metrics["accuracy"] >= 0.75 > result.baseline_metrics["accuracy"]
    assert result.model_card["strongest_features"][0] == "Sex"


@pytest.mark.slow
def test_train_telco_reads_total_charges_written_as_text(shared_datasets):
    telco = pd.read_csv(shared_datasets / "telco_customer_churn.csv")
    result = train(
        telco, TrainConfig(target="Churn", problem_type="binary", budget_seconds=8, algorithms=("LogisticRegression",))
    )
    assert result.feature_schema["TotalCharges"]["role"] == "numeric"
    assert result.metrics["accuracy"] >= 0.78


def test_refit_params_replace_early_stopping_with_the_rounds_cross_validation_chose():
    stopped = Trial("HistGradientBoosting", {"learning_rate": 0.1}, (0.8,) * 5, 1.0, 0.1, True, 0.4, 80.0)
    assert refit_params(stopped, 5) == {"learning_rate": 0.1, "early_stopping": False, "max_iter": 100}
    plain = Trial("RandomForest", {"n_estimators": 200}, (0.8,) * 5, 1.0, 0.1, True)
    assert refit_params(plain, 5) == {"n_estimators": 200}


def test_progress_carries_the_leaderboard_so_far_best_first(iris):
    reports = []
    config = TrainConfig(target="target", problem_type="multiclass", budget_seconds=60, max_trials=4)
    result = train(iris, config, progress=reports.append)

    boards = [r.board for r in reports if r.board is not None]
    sizes = [sum(row.trials for row in board.rows) for board in boards]
    last = boards[-1]
    assert reports[0].board is None  # nothing has been tried at the preflight
    assert sizes == sorted(sizes)  # it grows with each candidate tried
    assert sizes[-1] == 4
    assert last.metric == "accuracy"
    assert [row.cv_mean for row in last.rows] == sorted((row.cv_mean for row in last.rows), reverse=True)
    assert {row.algorithm for row in last.rows} <= {c.algorithm for c in result.leaderboard}
