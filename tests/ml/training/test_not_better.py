"""A model no better than its baseline says so (issue 13 point 4): 94.7% accuracy can be "always no"."""

import numpy as np
import pandas as pd
import pytest

from csv_processor.ml.training import TrainConfig, train
from csv_processor.ml.training.card import BALANCED_ACCURACY_MARGIN, MIN_USEFUL_R2, not_better_than_baseline


@pytest.mark.parametrize(
    ("ours", "flagged"),
    [
        (0.5, True),
        (0.5 + BALANCED_ACCURACY_MARGIN - 0.001, True),
        (0.5 + BALANCED_ACCURACY_MARGIN, False),
        (0.8, False),
    ],
)
def test_classification_is_judged_on_balanced_accuracy(ours, flagged):
    metrics = {"accuracy": 0.947, "balanced_accuracy": ours}
    baseline = {"accuracy": 0.947, "balanced_accuracy": 0.5}

    sentence = not_better_than_baseline("binary", metrics, baseline, "no")

    assert (sentence is not None) is flagged
    if flagged:
        assert sentence.startswith("Not better than always answering “no”")
        assert f"{ours:.3f}" in sentence


@pytest.mark.parametrize(("r2", "flagged"), [(-0.3, True), (MIN_USEFUL_R2 - 0.001, True), (MIN_USEFUL_R2, False)])
def test_regression_is_judged_on_r2(r2, flagged):
    sentence = not_better_than_baseline("regression", {"r2": r2}, {"r2": 0.0}, "12.5")

    assert (sentence is not None) is flagged
    if flagged:
        assert "always answering the average (12.5)" in sentence


def test_a_rare_class_nothing_predicts_gives_a_flagged_card():
    rng = np.random.default_rng(0)
    rows = 2000
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.integers(0, 5, rows).astype(float)})
    frame["bought"] = np.where(rng.random(rows) < 0.05, "yes", "no")  # unrelated to a and b

    result = train(frame, TrainConfig(target="bought", problem_type="binary", max_trials=3, seed=0))

    card = result.model_card
    assert result.metrics["accuracy"] > 0.9  # accuracy alone looks good
    assert card["not_better_than_baseline"].startswith("Not better than always answering “no”")
    assert card["limits"][0] == card["not_better_than_baseline"]
    assert card["baseline"] == card["not_better_than_baseline"]


def test_a_useful_model_is_not_flagged():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=600)})
    frame["y"] = np.where(frame["x"] + rng.normal(scale=0.3, size=600) > 0, "up", "down")

    result = train(frame, TrainConfig(target="y", problem_type="binary", max_trials=2, seed=0))

    assert result.model_card["not_better_than_baseline"] is None
