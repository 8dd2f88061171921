"""The deployed model learns from every row (issue 13 point 1): after the held-out evaluation the chosen
model is refitted on the training and test rows; the scores shown stay those of the evaluated model."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.training import TrainConfig, train
from csv_processor.ml.training.finalize import refit_params
from csv_processor.ml.training.search import Trial


def _frame(rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows)})
    frame["y"] = np.where(frame["x1"] + 0.5 * frame["x2"] + rng.normal(scale=0.5, size=rows) > 0, "a", "b")
    return frame


def _rows_learnt(pipeline) -> int:
    """A decision tree's root holds every row it was fitted on."""
    return int(pipeline.named_steps["model"].tree_.n_node_samples[0])


def test_the_returned_model_is_refitted_on_every_row_and_the_scores_are_the_evaluated_ones():
    config = TrainConfig(target="y", problem_type="binary", algorithms=("DecisionTree",), max_trials=1, seed=0)

    result = train(_frame(), config)

    n_test = result.split["n_test"]
    assert result.refit_rows == 500
    assert result.split["refit_rows"] == 500
    assert _rows_learnt(result.pipeline) == 500
    assert _rows_learnt(result.evaluated_pipeline) == 500 - n_test
    # The test accuracy shown is the evaluated model's: it never saw those rows.
    assert result.metrics["accuracy"] == pytest.approx(result.leaderboard[0].test_score)
    assert (
        f"scored on {n_test} held-out rows it never saw (trained on {500 - n_test}), then refitted on all 500"
        in (result.model_card["summary"])
    )


def test_keeping_the_evaluated_model_returns_it_as_it_was_scored():
    config = TrainConfig(
        target="y", problem_type="binary", algorithms=("DecisionTree",), max_trials=1, seed=0, refit_all=False
    )

    result = train(_frame(), config)

    n_test = result.split["n_test"]
    assert result.evaluated_pipeline is None
    assert result.refit_rows == 500 - n_test
    assert _rows_learnt(result.pipeline) == 500 - n_test
    assert f"trained on {500 - n_test} rows and tested on {n_test} rows it never saw." in result.model_card["summary"]


def test_early_stopping_rounds_grow_with_the_rows_of_the_refit():
    trial = Trial("HistGradientBoosting", {"early_stopping": True}, (0.9,), 1.0, 0.1, True, 0.3, 100.0)

    assert refit_params(trial, 5)["max_iter"] == 125
    assert refit_params(trial, 5, growth=1.25)["max_iter"] == 156
    assert refit_params(trial, 5, growth=1.25)["early_stopping"] is False
