"""Housekeeping for training, run from the worker's heartbeat loop: reap runs of dead workers and
schedule the retry of MLflow logging that could not reach the store."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from csv_processor.models import TrainingRun
from csv_processor.services.jobs.queue import task_enqueue_on_commit, task_get, task_queued_within
from csv_processor.services.training.execute import training_run_counted

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 2
DIED_RETRIED = "The worker stopped while training; the run was queued again."
DIED_FAILED = "The worker stopped while training, twice. Try a smaller time budget or fewer rows, then start again."
# A claim on MLflow logging older than this belongs to a process that died while logging.
LOGGING_STALE_SECONDS = 600


def training_runs_reap() -> list[int]:
    """Re-queue (once) or fail RUNNING runs whose heartbeat is older than TRAINING_STALE_SECONDS."""
    cutoff = timezone.now() - dt.timedelta(seconds=settings.TRAINING_STALE_SECONDS)
    stale = TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff)
    reaped = []
    for run_id, attempts in stale.values_list("pk", "attempts"):
        # Guarded on the values read, so a run that just beat or finished is left alone.
        still = TrainingRun.objects.filter(
            pk=run_id, status=TrainingRun.Status.RUNNING, attempts=attempts, heartbeat_at__lt=cutoff
        )
        cancelled = _cancel_requested(run_id)
        ended = None
        with transaction.atomic():
            if attempts < MAX_ATTEMPTS and not cancelled:
                # A cancel that arrives after the read above keeps the run RUNNING: the next pass cancels it.
                requeue = still.filter(cancel_requested=False)
                done = requeue.update(
                    status=TrainingRun.Status.QUEUED, error=DIED_RETRIED, progress={"stage": "queued"}
                )
                if done:
                    task_enqueue_on_commit("training_run_execute_task", run_id)
            else:
                done = still.update(
                    status=TrainingRun.Status.CANCELLED if cancelled else TrainingRun.Status.FAILED,
                    error="" if cancelled else DIED_FAILED,
                    finished_at=timezone.now(),
                )
                # Read it while the update holds the row, so a dataset deleted meanwhile cannot make it vanish.
                ended = TrainingRun.objects.get(pk=run_id) if done else None
        if done:
            logger.warning("training run %s: worker died (attempt %d); reaped", run_id, attempts)
            reaped.append(run_id)
        if ended is not None:
            # The dead worker never counted it; only the reaper whose update changed the row gets here.
            training_run_counted(run=ended)
    return reaped


def _cancel_requested(run_id: int) -> bool:
    return TrainingRun.objects.filter(pk=run_id, cancel_requested=True).exists()


def training_periodic_enqueue_due() -> list[str]:
    """Reap dead runs now (cheap) and enqueue the MLflow retry when runs wait for it; return task names."""
    training_runs_reap()
    training_tracking_reset_stale(older_than_seconds=LOGGING_STALE_SECONDS)
    pending = TrainingRun.objects.filter(
        status=TrainingRun.Status.SUCCEEDED, tracking_status=TrainingRun.Tracking.PENDING
    )
    # One retry at a time: retries queued behind a long job would otherwise run back to back.
    retry = task_get("training_tracking_retry_task")
    if pending.exists() and not task_queued_within(retry, settings.MLFLOW_RETRY_SECONDS, or_unfinished=True):
        retry.enqueue()
        return ["training_tracking_retry_task"]
    return []


def training_tracking_reset_stale(*, older_than_seconds: int) -> int:
    """Hand back MLflow logging claims of processes that died while logging."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    return TrainingRun.objects.filter(
        Q(tracking_started_at__lt=cutoff) | Q(tracking_started_at__isnull=True),
        tracking_status=TrainingRun.Tracking.LOGGING,
    ).update(tracking_status=TrainingRun.Tracking.PENDING)
