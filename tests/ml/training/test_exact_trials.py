"""Exact Auto mode (`max_trials`): the first N configurations of the plan, whatever the clock says."""

import time

import pandas as pd
import pytest
from sklearn.datasets import load_iris

from csv_processor.ml.training import Cancelled, TrainConfig, automl, progress, train


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    return frame


def _board(result) -> list[tuple]:
    return [(c.algorithm, sorted(c.params.items()), c.cv_mean, c.cv_std, c.test_score) for c in result.leaderboard]


def _trials(result) -> list[tuple]:
    return [(t.algorithm, sorted(t.params.items()), t.cv_mean, t.cv_std) for t in result.trials]


@pytest.mark.slow
def test_train_with_max_trials_gives_the_same_leaderboard_on_a_slow_clock_and_a_tiny_budget(iris, monkeypatch):
    config = TrainConfig(target="target", problem_type="multiclass", seed=4, budget_seconds=60, max_trials=7)
    normal = train(iris, config)
    # The same seed on a machine that looks 50 times slower, with a budget of a second: a budgeted
    # run cuts its plan here (checked below), an exact one must not.
    monkeypatch.setattr(progress.Clock, "elapsed", lambda self: (time.perf_counter() - self.start) * 50)
    slow = train(iris, TrainConfig(target="target", problem_type="multiclass", seed=4, budget_seconds=1, max_trials=7))
    assert _budgeted_trials(iris) < 7
    assert _board(slow) == _board(normal)
    assert _trials(slow) == _trials(normal)
    assert slow.importance == normal.importance
    assert slow.candidates_tried == normal.candidates_tried == len(normal.trials) == 7


def _budgeted_trials(iris: pd.DataFrame) -> int:
    """Trials a budgeted run gets through on the slowed clock (none when the budget ends it first)."""
    try:
        return len(
            train(iris, TrainConfig(target="target", problem_type="multiclass", seed=4, budget_seconds=1)).trials
        )
    except Cancelled:
        return 0


def test_train_with_max_trials_3_runs_exactly_3_complete_candidates(iris):
    result = train(iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=60, max_trials=3))
    assert len(result.trials) == 3
    assert result.candidates_tried == 3
    assert all(t.test_score is not None for t in result.leaderboard)
    # The plan's first three: the default HistGradientBoosting, then the cheapest other defaults.
    assert result.trials[0].algorithm == "HistGradientBoosting"
    assert all(t.params == {} for t in result.trials)


def test_train_with_max_trials_stops_with_an_error_at_the_hard_cap(iris, monkeypatch):
    monkeypatch.setattr(automl, "EXACT_CAP_SECONDS", 0.0)
    with pytest.raises(Cancelled, match="cap after 0 of 3 candidates"):
        train(iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=60, max_trials=3))


def test_train_without_max_trials_reports_the_candidates_it_reached(iris):
    result = train(iris, TrainConfig(target="target", problem_type="multiclass", budget_seconds=3))
    assert result.candidates_tried >= len(result.trials) >= 1
