"""The background training job: claim a queued run, train within its budget, store the model and results.

Writes from the job go through guarded updates (`status=RUNNING` and this claim's `attempts`), so a run
that was cancelled, reaped and re-queued, or deleted with its dataset while training is never
overwritten by a late finisher, and a run never gets two models.
"""

import logging
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone
from sklearn.pipeline import Pipeline

from csv_processor import metrics
from csv_processor.ml.cleaning.recipe import Recipe
from csv_processor.ml.json_values import json_value
from csv_processor.ml.training import Cancelled, Progress, TrainConfig, TrainingBlocked, TrainResult, train
from csv_processor.models import TrainingRun
from csv_processor.selectors.training.setup import algorithm_names, training_frame
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.services.training.model_store import trained_model_save
from csv_processor.storage import StoreUnavailable, files_delete

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5
CANCEL_CHECK_SECONDS = 0.5
UNEXPECTED = "An unexpected error stopped training. Try again, or contact your administrator."


class _Monitor:
    """Progress and cancellation for one claim of a run, written from the training thread only.

    The ml layer may call back from other threads; a write from there would open a second database
    connection (and may wait on this thread's transaction), so those reports wait for the next one here.
    """

    def __init__(self, run_id: int, attempt: int, on_progress: Callable[[dict], None] | None = None) -> None:
        self.run_id, self.attempt, self.on_progress = run_id, attempt, on_progress
        self.thread = threading.get_ident()
        self.written_at = self.checked_at = 0.0
        self.cancel = False
        self.lost = False

    def mine(self):
        return TrainingRun.objects.filter(pk=self.run_id, status=TrainingRun.Status.RUNNING, attempts=self.attempt)

    def report(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.stage == "done"
        if threading.get_ident() != self.thread or (now - self.written_at < PROGRESS_EVERY_SECONDS and not final):
            return
        self.written_at = now
        state = {
            "stage": progress.stage,
            "candidate": progress.candidate,
            "total": progress.total,
            "elapsed": round(progress.elapsed, 1),
            "remaining": round(progress.remaining, 1),
            "message": progress.message[:200],
            # The leaderboard so far, for the run page while the search goes on.
            "board": progress.board
            and {
                "metric": progress.board.metric,
                "rows": [
                    {
                        "algorithm": standing.algorithm,
                        "cv_mean": json_value(standing.cv_mean),
                        "cv_std": json_value(standing.cv_std),
                        "trials": standing.trials,
                    }
                    for standing in progress.board.rows
                ],
            },
        }
        if not self.mine().update(progress=state, heartbeat_at=timezone.now()):
            self.lost = True
        if self.on_progress is not None:
            self.on_progress(state)

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if threading.get_ident() != self.thread or now - self.checked_at < CANCEL_CHECK_SECONDS:
            return self.cancel or self.lost
        self.checked_at = now
        row = self.mine().values_list("cancel_requested", flat=True).first()
        if row is None:
            # Deleted with its dataset, or reaped and handed to another worker: stop spending the CPU.
            self.lost = True
        else:
            self.cancel = bool(row)
        return self.cancel or self.lost


@contextmanager
def _heartbeat(monitor: _Monitor):
    """Refresh the heartbeat while a single long fit gives no progress reports (own thread, own connection)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.TRAINING_HEARTBEAT_SECONDS):
                try:
                    monitor.mine().update(heartbeat_at=timezone.now())
                except DatabaseError as exc:
                    logger.warning("training heartbeat of run %s failed: %s", monitor.run_id, exc)
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"training-heartbeat-{monitor.run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def _claim(run_id: int) -> TrainingRun | None:
    now = timezone.now()
    claimed = TrainingRun.claim(
        run_id,
        guard={"cancel_requested": False},
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        progress={"stage": "loading", "message": "reading the data"},
        error="",
    )
    if not claimed:
        return None
    return TrainingRun.objects.select_related("dataset_version__dataset").get(pk=run_id)


def _finish(monitor: _Monitor, status: str, error: str = "") -> TrainingRun | None:
    updated = monitor.mine().update(status=status, error=error, finished_at=timezone.now(), progress={"stage": status})
    if not updated:
        logger.info("training run %s: gone or taken over; result %s dropped", monitor.run_id, status)
        return None
    logger.info("training run %s %s%s", monitor.run_id, status, f": {error}" if error else "")
    return training_run_counted(run=TrainingRun.objects.get(pk=monitor.run_id))


def training_run_counted(*, run: TrainingRun) -> TrainingRun:
    """Report a run that reached its final status to the metrics; call once, after the update that ended it.

    Whoever ends the run calls this: the worker running it, the reaper of a dead worker's run, the cancel
    of a queued run. Each calls it only when its guarded update changed the row, so a run counts once.
    """
    started, finished = run.started_at, run.finished_at
    # A run cancelled before any worker took it has no wall time: leave it out of the duration histogram.
    seconds = (finished - started).total_seconds() if finished and started else None
    problem_type = "regression" if run.problem_type == TrainingRun.ProblemType.REGRESSION else "classification"
    metrics.training_run_finished(
        problem_type=problem_type, algorithm=run.best_algorithm or "auto", status=run.status, seconds=seconds
    )
    return run


def training_metrics_initialize() -> None:
    """Start the training-run counters at 0 in a process that executes runs, with training_run_counted's labels."""
    names = algorithm_names()
    metrics.training_runs_initialize(algorithms={"classification": names["binary"], "regression": names["regression"]})


def training_run_execute(
    *, run_id: int, on_progress: Callable[[dict], None] | None = None, defer_tracking: bool = False
) -> TrainingRun | None:
    """Train a queued run; idempotent: only a QUEUED run is taken, by one worker, once per claim.

    The MLflow logging follows: now, or with `defer_tracking` as its own low-priority task, so the worker
    takes jobs queued meanwhile first (the `train` command logs now: it may have no worker)."""
    run = _claim(run_id)
    if run is None:
        logger.info("training run %s is not queued (deleted, cancelled or taken); nothing to do", run_id)
        return None
    monitor = _Monitor(run.pk, run.attempts, on_progress)
    with _heartbeat(monitor):
        try:
            frame, steps = training_frame(version=run.dataset_version)
            result = train(frame, _config(run, steps), progress=monitor.report, should_cancel=monitor.should_cancel)
        except Cancelled as exc:
            if monitor.lost:
                return None
            if monitor.cancel:
                return _finish(monitor, TrainingRun.Status.CANCELLED)
            return _finish(monitor, TrainingRun.Status.FAILED, str(exc))
        except TrainingBlocked as exc:
            return _finish(monitor, TrainingRun.Status.FAILED, str(exc))
        except FileNotFoundError:
            return _finish(monitor, TrainingRun.Status.FAILED, "The dataset's data file is missing; upload it again.")
        except StoreUnavailable:
            return _finish(monitor, TrainingRun.Status.FAILED, "The file store could not be reached; try again later.")
        except ValueError as exc:
            logger.info("training run %s stopped on the data: %s", run.pk, exc)
            return _finish(monitor, TrainingRun.Status.FAILED, f"Training stopped: {exc}")
        except BaseException:
            logger.exception("training run %s failed unexpectedly", run.pk)
            _finish(monitor, TrainingRun.Status.FAILED, UNEXPECTED)
            raise
        saved = _save_result(monitor, result, steps)
    if saved is None:
        return None
    return _track(saved, result.pipeline, frame, defer=defer_tracking)


def _track(run: TrainingRun, pipeline: Pipeline, frame: pd.DataFrame, *, defer: bool) -> TrainingRun:
    if defer:
        task_enqueue_on_commit("training_run_track_task", run.pk)
        return run
    from csv_processor.services.training.tracking import training_run_track

    training_run_track(run_id=run.pk, pipeline=pipeline, frame=frame)
    return TrainingRun.objects.get(pk=run.pk)


def _config(run: TrainingRun, steps: list[dict]) -> TrainConfig:
    return TrainConfig(
        target=run.target,
        problem_type=run.problem_type,
        features=tuple(run.features) or None,
        algorithms=tuple(run.algorithms) or None,
        test_size=run.test_size,
        cv_folds=run.cv_folds,
        seed=run.seed,
        budget_seconds=float(run.budget_seconds),
        max_trials=run.max_trials,
        refit_all=run.refit_all,
        recipe_steps=tuple(steps),
        # A retraining replays the held-out rows of the model it is compared with (services/serving_retrain.py).
        test_index=tuple(run.split["test_index"]) if run.split.get("replay") else None,
    )


def _save_result(monitor: _Monitor, result: TrainResult, steps: list[dict]) -> TrainingRun | None:
    stored: list[str | None] = []
    try:
        with transaction.atomic():
            run = monitor.mine().select_for_update().first()
            if run is None:
                logger.info("training run %s: gone or taken over before saving; model dropped", monitor.run_id)
                return None
            model = trained_model_save(
                run=run,
                pipeline=result.pipeline,
                algorithm=result.best.algorithm,
                evaluated=result.evaluated_pipeline,
            )
            stored += [name for name in (model.file.name, model.evaluated_file.name) if name]
            monitor.mine().update(**_result_fields(result, steps))
    except BaseException:
        files_delete(stored)
        raise
    logger.info("training run %s succeeded: %s", monitor.run_id, result.best.algorithm)
    return training_run_counted(run=TrainingRun.objects.get(pk=monitor.run_id))


def _result_fields(result: TrainResult, steps: list[dict]) -> dict[str, Any]:
    return {
        "status": TrainingRun.Status.SUCCEEDED,
        "finished_at": timezone.now(),
        "progress": {"stage": "done", "elapsed": round(result.elapsed_seconds, 1)},
        "best_algorithm": result.best.algorithm,
        "main_metric": result.main_metric,
        "leaderboard": json_value([_candidate(c) for c in result.leaderboard]),
        "trials": json_value([_candidate(c) for c in result.trials]),
        "metrics": json_value({**result.metrics, "baseline": _candidate(result.baseline)}),
        "baseline_metrics": json_value(result.baseline_metrics),
        "plots": json_value(result.plots),
        "importance": json_value(result.importance),
        "model_card": json_value(result.model_card),
        "feature_schema": json_value(result.feature_schema),
        "used_features": list(result.features),
        "class_labels": json_value(result.class_labels),
        "split": json_value(result.split),
        "warnings": list(result.warnings),
        "recipe_digest": Recipe.from_list(steps).digest() if steps else "",
        "elapsed_seconds": result.elapsed_seconds,
        "candidates_tried": result.candidates_tried,
        "tracking_status": TrainingRun.Tracking.PENDING,
    }


def _candidate(candidate: Any) -> dict:
    return {
        "algorithm": candidate.algorithm,
        "params": candidate.params,
        "cv_mean": candidate.cv_mean,
        "cv_std": candidate.cv_std,
        "test_score": candidate.test_score,
        "fit_seconds": candidate.fit_seconds,
        "predict_ms_per_row": candidate.predict_ms_per_row,
        "cv_scores": list(candidate.cv_scores),
    }
