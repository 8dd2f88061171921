"""The held-out split keeps the class mix for classification; leaderboard rows carry the numbers the
page shows (cross-validation mean and spread, fit time, predict time per row)."""

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from csv_processor.ml.training import TrainConfig, train
from csv_processor.ml.training.split import split_rows


def _imbalanced(seed: int) -> pd.Series:
    labels = np.array(["common"] * 310 + ["middle"] * 130 + ["rare"] * 37, dtype=object)
    return pd.Series(np.random.default_rng(seed).permutation(labels))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("test_size", [0.2, 0.35])
def test_classification_split_keeps_each_class_share_within_one_row(seed, test_size):
    y = _imbalanced(seed)

    train_pos, test_pos, info = split_rows(y, problem_type="multiclass", test_size=test_size, seed=seed)

    assert info["stratified"]
    assert len(train_pos) + len(test_pos) == len(y)
    counts, in_test, in_train = y.value_counts(), y.iloc[test_pos].value_counts(), y.iloc[train_pos].value_counts()
    for label, total in counts.items():
        # The class's rows split in the same proportion as the whole table, give or take one row.
        assert abs(in_test[label] - total * len(test_pos) / len(y)) <= 1, (label, in_test[label], total)
        assert abs(in_train[label] - total * len(train_pos) / len(y)) <= 1, (label, in_train[label], total)


def test_train_records_a_stratified_split_for_classification():
    frame = load_iris(as_frame=True).frame.iloc[:120]  # 50 setosa, 50 versicolor, 20 virginica
    frame["target"] = frame["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))

    result = train(
        frame, TrainConfig(target="target", problem_type="multiclass", algorithms=("DecisionTree",), budget_seconds=5)
    )

    held_out = frame.loc[result.split["test_index"], "target"].value_counts()
    assert result.split["stratified"]
    assert held_out.to_dict() == {"setosa": 10, "versicolor": 10, "virginica": 4}


@pytest.mark.slow
def test_leaderboard_rows_carry_cv_mean_spread_fit_and_predict_times():
    frame = load_iris(as_frame=True).frame
    config = TrainConfig(
        target="target", problem_type="multiclass", algorithms=("LogisticRegression", "DecisionTree"), budget_seconds=8
    )

    result = train(frame, config)

    assert {row.algorithm for row in result.leaderboard} >= {"LogisticRegression", "DecisionTree"}
    for row in (*result.leaderboard, result.baseline):
        numbers = (row.cv_mean, row.cv_std, row.fit_seconds, row.predict_ms_per_row)
        assert all(isinstance(value, float) for value in numbers), row
        assert all(math.isfinite(value) and value >= 0 for value in numbers), row
        assert 0 < row.cv_mean <= 1
    assert result.best.cv_std > 0  # a spread over 5 folds, not a single score
    assert all(row.fit_seconds > 0 and row.predict_ms_per_row > 0 for row in result.leaderboard)
