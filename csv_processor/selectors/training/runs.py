"""Reads of training runs, scoped to their owner: another user's run is a 404.

They live beside the training services rather than in selectors.py while the datasets and cleaning
work owns that module; the names follow the selector pattern so they can move there unchanged.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from csv_processor.ml.training import ALGORITHMS
from csv_processor.ml.training.algorithms import BASELINE
from csv_processor.ml.training.card import data_summary
from csv_processor.ml.training.leakage import suspects_named
from csv_processor.models import Dataset, TrainingRun
from csv_processor.selectors.datasets import dataset_version_chain
from users.models import User

RECENT_RUNS = 10


def training_run_get_for_user(*, user: User, run_id: int) -> TrainingRun:
    run = (
        TrainingRun.objects.filter(owner=user, pk=run_id)
        .select_related("dataset_version__dataset", "trained_model")
        .first()
    )
    if run is None:
        raise Http404("No such training run.")
    return run


def training_run_list(*, user: User, dataset: Dataset | None = None) -> QuerySet[TrainingRun]:
    runs = TrainingRun.objects.filter(owner=user).select_related("dataset_version__dataset")
    if dataset is not None:
        runs = runs.filter(dataset_version__dataset=dataset)
    return runs.defer("plots", "trials", "split", "feature_schema", "importance")


def training_run_mlflow_url(*, run: TrainingRun) -> str:
    """The run's page in the MLflow UI (settings.MLFLOW_UI_URL), or "" before it was logged."""
    if not (run.mlflow_experiment_id and run.mlflow_run_id):
        return ""
    return f"{settings.MLFLOW_UI_URL.rstrip('/')}/#/experiments/{run.mlflow_experiment_id}/runs/{run.mlflow_run_id}"


def training_run_card(*, run: TrainingRun) -> dict:
    """The run's model card with what data it learnt from: the dataset's name, the version and the cleaning
    steps that made it, worded as on the dataset page. {} before the run has a card.

    Read from the versions rather than stored with the card: versions never change, so every run (older
    ones too) gets the same words, and a renamed dataset shows its current name.
    """
    if not run.model_card:
        return {}
    version = run.dataset_version
    steps = [
        _step_words(item.produced_by)
        for item in dataset_version_chain(version=version)
        if item.produced_by.get("kind") == "clean"
    ]
    return {**run.model_card, **data_summary(dataset=version.dataset.name, version=version.number, steps=steps)}


def _step_words(produced_by: dict) -> str:
    words = produced_by.get("description") or produced_by.get("step", {}).get("op", "a cleaning step")
    # Row filters shaped the training rows only; they are never replayed on the rows a model is asked about.
    return f"{words} (training only)" if produced_by.get("training_only") else words


# The strongest columns a leakage warning is checked against (issue 13 point 5).
TOP_COLUMNS = 3


def training_run_leaking_top_columns(*, run: TrainingRun) -> list[str]:
    """The run's strongest columns (by permutation importance) that its pre-flight flagged as possible leakage."""
    strongest = [row["feature"] for row in run.importance or [] if row.get("importance", 0) > 0][:TOP_COLUMNS]
    return suspects_named(list(run.warnings or []), strongest)


# Folds this far apart (in the main metric's units) make a mean score unreliable (issue 13 point 6).
UNSTABLE_STD = 0.1
UNSTABLE_RANGE = 0.3


@dataclass(frozen=True)
class Leaderboard:
    """The run's leaderboard rows, each with a `note` ("" or why its figures need a word), and the
    sentences under the table: how the winner was chosen, test scores above the winner's, what was not tried."""

    rows: list[dict]
    notes: list[str]


def training_run_leaderboard(*, run: TrainingRun) -> Leaderboard:
    rows = [{**row, "unstable": _unstable(row), "note": _row_note(row)} for row in run.leaderboard or []]
    metric = run.main_metric or "the main metric"
    notes = [
        f"The chosen model has the best mean cross-validation score ({metric}) on the training rows; the "
        "test rows are never used to choose."
    ]
    if rows and rows[0].get("test_score") is not None:
        chosen = rows[0]["test_score"]
        higher = [row for row in rows[1:] if row.get("test_score") is not None and row["test_score"] > chosen]
        for row in higher:
            notes.append(
                f"{row['algorithm']} scored higher on the test rows ({row['test_score']:.3f} against {chosen:.3f}) "
                "but lower in cross-validation: one split's luck, which is why the choice rests on the folds."
            )
    tried = {row["algorithm"] for row in rows} | {
        member["algorithm"] for row in rows for member in (row.get("params") or {}).get("members", [])
    }
    tried |= {trial["algorithm"] for trial in run.trials or []}
    asked = list(run.algorithms or ALGORITHMS.get(run.problem_type, {}))
    missing = [name for name in asked if name not in tried and name != BASELINE]
    if missing:
        why = (
            f"not within the {run.max_trials} candidates asked for"
            if run.max_trials
            else "the time budget ran out before them"
        )
        notes.append(f"Not tried: {', '.join(missing)} ({why}).")
    return Leaderboard(rows, notes)


def _unstable(row: dict) -> bool:
    scores = [score for score in row.get("cv_scores") or [] if score is not None]
    return bool(scores) and ((row.get("cv_std") or 0) >= UNSTABLE_STD or max(scores) - min(scores) >= UNSTABLE_RANGE)


def _row_note(row: dict) -> str:
    scores = [score for score in row.get("cv_scores") or [] if score is not None]
    notes = []
    if _unstable(row):
        notes.append(
            f"Its folds disagree (from {min(scores):.3f} to {max(scores):.3f}): this mean is unreliable, "
            "often because one fold held rows unlike the others."
        )
    if row.get("test_score") is None:
        notes.append("Not scored on the test rows: the time budget ran out before its refit.")
    return " ".join(notes)


def training_run_summary(*, run: TrainingRun) -> dict:
    """What a run knows, as plain JSON: `manage.py train`'s output line and `GET /api/runs/<id>/`."""
    model = getattr(run, "trained_model", None) if run.status == TrainingRun.Status.SUCCEEDED else None
    succeeded = run.status == TrainingRun.Status.SUCCEEDED
    return {
        "run_id": run.pk,
        "dataset_id": run.dataset_version.dataset_id,
        "dataset_version": run.dataset_version.number,
        "status": run.status,
        "error": run.error,
        "target": run.target,
        "problem_type": run.problem_type,
        "problem_type_reason": run.problem_type_reason,
        "main_metric": run.main_metric,
        "features_used": list(run.used_features or []),
        "features_left_out": _left_out(run) if succeeded else {},
        "warnings": list(run.warnings or []),
        "elapsed_seconds": run.elapsed_seconds,
        "candidates_tried": run.candidates_tried,
        "rows_refitted_on": (run.split or {}).get("refit_rows"),
        "test_rows": (run.split or {}).get("n_test"),
        "model_id": model.pk if model else None,
        "best_algorithm": run.best_algorithm,
        "leaderboard": run.leaderboard,
        "test_metrics": {name: value for name, value, _ in run.scalar_metrics},
        "baseline_metrics": {key: run.baseline_metrics.get(key) for key in ("accuracy", "balanced_accuracy", "r2")}
        if run.baseline_metrics
        else {},
        "not_better_than_baseline": (run.model_card or {}).get("not_better_than_baseline"),
        "tracking_status": run.tracking_status,
        "mlflow_run_id": run.mlflow_run_id,
        "registered_model": f"{run.registered_model_name}/{run.registered_model_version}"
        if run.registered_model_version
        else "",
        "deployed": None,
    }


def _left_out(run: TrainingRun) -> dict[str, str]:
    """Every column neither the target nor a feature, with why."""
    kinds = {column["name"]: column.get("kind") for column in run.dataset_version.schema}
    requested = set(run.features or [])
    why = {}
    for name, kind in kinds.items():
        if name == run.target or name in (run.used_features or []):
            continue
        if requested and name not in requested:
            why[name] = "not among the requested features"
        elif kind == "identifier":
            why[name] = "identifier-like: almost every value differs"
        else:
            why[name] = "left out by the pre-flight checks (constant or mostly missing; see warnings)"
    return why
