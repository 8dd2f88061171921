"""Reads of training runs, scoped to their owner: another user's run is a 404.

They live beside the training services rather than in selectors.py while the datasets and cleaning
work owns that module; the names follow the selector pattern so they can move there unchanged.
"""

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

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
