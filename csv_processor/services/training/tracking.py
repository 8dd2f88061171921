"""Log finished runs to MLflow, now or later: training never waits on, or fails because of, MLflow.

A run's tracking goes PENDING (saved, not yet logged) → LOGGING (claimed by one process) → TRACKED, or
back to PENDING when MLflow is unreachable, for the periodic retry. After MAX_TRACKING_ATTEMPTS tries
that reached MLflow it is FAILED with the last error; a server that accepts no connection, or accepts
and never answers (hung), is an outage, and however long it lasts the run stays PENDING. A server that
answers with an error uses up an attempt. The model and results in the app are unaffected.

Besides the numbers, a run logs its charts as PNG images (plots/) and its model card with the data it
learnt from, as JSON and as the Markdown text the run page shows.
"""

import logging
import re

import pandas as pd
import sklearn
from django.db.models import F
from django.utils import timezone
from sklearn.pipeline import Pipeline

from csv_processor import mlflow_utils
from csv_processor.ml.training import figures
from csv_processor.ml.training.card import card_markdown
from csv_processor.models import TrainingRun
from csv_processor.selectors.training.runs import training_run_card
from csv_processor.selectors.training.setup import training_frame
from csv_processor.services.training.model_store import ModelFileError, trained_model_load

logger = logging.getLogger(__name__)

MAX_TRACKING_ATTEMPTS = 10
RETRY_BATCH = 20
INPUT_EXAMPLE_ROWS = 5
MODEL_NAME_MAX = 100
SCALAR_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "precision_macro",
    "recall_macro",
    "f1_macro",
    "roc_auc",
    "log_loss",
    "r2",
    "rmse",
    "mae",
)


def registered_model_name(*, dataset_id: int, target: str) -> str:
    """`csv-analyzer-dataset-<id>-<target>` with the target reduced to safe characters and bounded."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", target).strip("-")[:60] or "target"
    return f"csv-analyzer-dataset-{dataset_id}-{slug}"[:MODEL_NAME_MAX]


def _claim(run_id: int) -> TrainingRun | None:
    claimed = TrainingRun.objects.filter(
        pk=run_id, status=TrainingRun.Status.SUCCEEDED, tracking_status=TrainingRun.Tracking.PENDING
    ).update(
        tracking_status=TrainingRun.Tracking.LOGGING,
        tracking_started_at=timezone.now(),
        tracking_attempts=F("tracking_attempts") + 1,
    )
    if not claimed:
        return None
    return TrainingRun.objects.select_related("dataset_version__dataset", "trained_model").get(pk=run_id)


def training_run_track(
    *, run_id: int, pipeline: Pipeline | None = None, frame: pd.DataFrame | None = None
) -> TrainingRun | None:
    """Log a succeeded run to MLflow once; `pipeline` and `frame` save reloading them right after training."""
    run = _claim(run_id)
    if run is None:
        return None
    try:
        # Loading the model and data and drawing the charts wait until the server answers (outages retry often).
        mlflow_utils.tracking_probe()
        if pipeline is None:
            pipeline = trained_model_load(trained_model=run.trained_model)
        if frame is None:
            frame, _ = training_frame(version=run.dataset_version)
        tracked = mlflow_utils.training_log(_log_of(run, pipeline, frame), probed=True)
    except (mlflow_utils.TrackingUnavailable, ModelFileError, OSError) as exc:
        # An outage (refused, or hung: no answer in time) does not use up the run's attempts (retries would
        # give up after minutes of it).
        outage = isinstance(exc, mlflow_utils.TrackingUnreachable)
        final = isinstance(exc, ModelFileError) or (run.tracking_attempts >= MAX_TRACKING_ATTEMPTS and not outage)
        status = TrainingRun.Tracking.FAILED if final else TrainingRun.Tracking.PENDING
        refund = {"tracking_attempts": F("tracking_attempts") - 1} if outage else {}
        TrainingRun.objects.filter(pk=run.pk, tracking_status=TrainingRun.Tracking.LOGGING).update(
            tracking_status=status, tracking_error=str(exc)[:2000], **refund
        )
        logger.warning("training run %s: MLflow logging %s: %s", run.pk, status, exc)
        return TrainingRun.objects.get(pk=run.pk)
    TrainingRun.objects.filter(pk=run.pk).update(
        tracking_status=TrainingRun.Tracking.TRACKED,
        tracking_error="",
        mlflow_experiment_id=tracked.experiment_id,
        mlflow_run_id=tracked.run_id,
        registered_model_name=_model_name(run),
        registered_model_version=tracked.model_version,
    )
    return TrainingRun.objects.get(pk=run.pk)


def training_runs_track_pending() -> int:
    """Retry the logging of runs still pending; return how many got tracked."""
    ids = list(
        TrainingRun.objects.filter(
            status=TrainingRun.Status.SUCCEEDED, tracking_status=TrainingRun.Tracking.PENDING
        ).values_list("pk", flat=True)[:RETRY_BATCH]
    )
    tracked = 0
    for run_id in ids:
        run = training_run_track(run_id=run_id)
        if run is not None and run.tracking_status == TrainingRun.Tracking.TRACKED:
            tracked += 1
        elif run is not None:
            # The store is still away: leave the rest for the next round instead of waiting on each.
            break
    return tracked


def _model_name(run: TrainingRun) -> str:
    return registered_model_name(dataset_id=run.dataset_version.dataset_id, target=run.target)


def _log_of(run: TrainingRun, pipeline: Pipeline, frame: pd.DataFrame) -> mlflow_utils.TrainingLog:
    version = run.dataset_version
    columns = list(getattr(pipeline, "feature_names_in_", run.used_features))
    example = frame[[c for c in columns if c in frame.columns]].head(INPUT_EXAMPLE_ROWS)
    card = training_run_card(run=run)
    return mlflow_utils.TrainingLog(
        experiment_name=f"dataset-{version.dataset_id}",
        run_name=f"run-{run.pk} {run.target} ({run.best_algorithm})",
        params={
            "target": run.target,
            "task": run.problem_type,  # MLflow names already logged stay
            "algorithms": ",".join(run.algorithms) or "auto",
            "features": ",".join(run.used_features),
            "test_size": run.test_size,
            "cv_folds": run.cv_folds,
            "seed": run.seed,
            "budget_seconds": run.budget_seconds,
            # Exact runs (the same leaderboard on any machine): how many candidates were asked for, "budget"
            # when the time budget decided; and how many the run reached.
            "max_trials": run.max_trials or "budget",
            **({"candidates_tried": run.candidates_tried} if run.candidates_tried is not None else {}),
            "best_algorithm": run.best_algorithm,
            # The rows the logged model learnt from: all of them after the refit, else the training split.
            "refit_rows": (run.split or {}).get("refit_rows", "unknown"),
            **{
                f"best.{key}": value for key, value in (run.leaderboard[0]["params"] if run.leaderboard else {}).items()
            },
        },
        metrics={
            **{f"test_{key}": run.metrics[key] for key in SCALAR_METRICS if run.metrics.get(key) is not None},
            **{
                f"baseline_test_{key}": run.baseline_metrics[key]
                for key in SCALAR_METRICS
                if run.baseline_metrics.get(key) is not None
            },
            "elapsed_seconds": run.elapsed_seconds or 0.0,
        },
        tags={
            mlflow_utils.TRAINING_RUN_TAG: str(run.pk),
            mlflow_utils.TRAINING_RUN_CREATED_TAG: run.created_at.isoformat(),
            "csv_analyzer.user_id": str(run.owner_id),
            "csv_analyzer.dataset_id": str(version.dataset_id),
            "csv_analyzer.dataset_version": str(version.number),
            "csv_analyzer.recipe_digest": run.recipe_digest or "none",
            "csv_analyzer.task": run.problem_type,
            "csv_analyzer.not_better_than_baseline": (run.model_card or {}).get("not_better_than_baseline") or "no",
            # Every pre-flight finding, one per line (MLflow keeps tag values up to 5,000 characters).
            "csv_analyzer.warnings": "\n".join(run.warnings or [])[:5000] or "none",
        },
        children=[
            mlflow_utils.ChildRun(
                name=f"{index:03d} {trial['algorithm']}",
                params={"algorithm": trial["algorithm"], **trial["params"]},
                metrics={
                    "cv_mean": trial["cv_mean"],
                    "cv_std": trial["cv_std"],
                    "fit_seconds": trial["fit_seconds"],
                    "predict_ms_per_row": trial["predict_ms_per_row"],
                },
            )
            for index, trial in enumerate(run.trials, start=1)
        ],
        dataset=frame,
        dataset_name=f"dataset-{version.dataset_id}-v{version.number}",
        target=run.target,
        pipeline=pipeline,
        input_example=example,
        registered_model_name=_model_name(run),
        pip_requirements=[f"scikit-learn=={sklearn.__version__}", f"pandas=={pd.__version__}"],
        json_artifacts={
            "leaderboard.json": run.leaderboard,
            "metrics.json": run.metrics,
            "plots.json": run.plots,
            "importance.json": run.importance,
            "model_card.json": card,
            "feature_schema.json": run.feature_schema,
        },
        text_artifacts={"model_card.md": card_markdown(card)} if card else {},
        images=figures.run_figures(
            problem_type=run.problem_type,
            target=run.target,
            metrics=run.metrics,
            plots=run.plots,
            importance=run.importance,
        ),
    )
