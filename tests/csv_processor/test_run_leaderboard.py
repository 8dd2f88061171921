"""An honest leaderboard (issue 13 point 6): unstable folds flagged, unscored rows say why, a test score
above the winner's explained, algorithms never reached listed, and how the winner was chosen."""

import pytest
from django.urls import reverse

from csv_processor.models import TrainingRun
from csv_processor.selectors.training.runs import training_run_leaderboard
from csv_processor.services.training.execute import training_run_execute
from tests.csv_processor.helpers import queue_run


def _row(algorithm, scores, test_score, **extra):
    mean = sum(scores) / len(scores)
    std = (sum((s - mean) ** 2 for s in scores) / len(scores)) ** 0.5
    return {"algorithm": algorithm, "params": {}, "cv_scores": scores, "cv_mean": mean, "cv_std": std,
            "test_score": test_score, **extra}  # fmt: skip


def _run(**fields) -> TrainingRun:
    defaults = {"problem_type": "regression", "main_metric": "r2", "algorithms": [], "trials": []}
    return TrainingRun(**(defaults | fields))


def test_unstable_folds_unscored_rows_and_a_lucky_test_score_are_explained():
    leaderboard = [
        _row("HistGradientBoosting", [0.90, 0.91, 0.92], 0.918),
        _row("LinearRegression", [0.9, 0.95, -0.2, 0.93, 0.96], 0.925),
        _row("RandomForest", [0.80, 0.82, 0.81], None),
    ]
    board = training_run_leaderboard(run=_run(leaderboard=leaderboard, algorithms=["HistGradientBoosting",
                                                 "LinearRegression", "RandomForest"]))  # fmt: skip

    chosen, linear, forest = board.rows
    assert not chosen["unstable"]
    assert chosen["note"] == ""
    assert linear["unstable"]
    assert "Its folds disagree (from -0.200 to 0.960)" in linear["note"]
    assert "Not scored on the test rows: the time budget ran out" in forest["note"]
    assert board.notes[0].startswith("The chosen model has the best mean cross-validation score (r2)")
    assert "LinearRegression scored higher on the test rows (0.925 against 0.918)" in board.notes[1]
    assert not any(note.startswith("Not tried") for note in board.notes)


@pytest.mark.parametrize(
    ("max_trials", "why"), [(None, "the time budget ran out before them"), (2, "not within the 2 candidates")]
)
def test_algorithms_never_reached_are_listed_as_not_tried(max_trials, why):
    run = _run(leaderboard=[_row("LinearRegression", [0.5, 0.5], 0.5)], max_trials=max_trials)

    notes = training_run_leaderboard(run=run).notes

    not_tried = [note for note in notes if note.startswith("Not tried: ")]
    assert len(not_tried) == 1
    assert "HistGradientBoosting" in not_tried[0]
    assert "LinearRegression" not in not_tried[0]
    assert "Dummy" not in not_tried[0]
    assert why in not_tried[0]


@pytest.mark.django_db
def test_the_run_page_shows_the_notes(user_client, user, dataset):
    run = training_run_execute(run_id=queue_run(user, dataset.current_version, max_trials=2).pk, defer_tracking=True)

    page = user_client.get(reverse("csv_processor:run-detail", args=[run.pk])).content.decode()

    assert "the test rows are never used to choose" in page
    assert "Not tried: " in page  # two candidates cannot cover every algorithm
