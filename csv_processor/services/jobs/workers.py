"""Worker liveness and the small scheduler the worker runs between tasks."""

import datetime as dt
import logging
import os
import socket

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from csv_processor.models import WorkerHeartbeat
from csv_processor.services.jobs.queue import task_get, task_queued_within
from csv_processor.services.jobs.recovery import interrupted_jobs_requeue
from csv_processor.services.serving.drift import serving_periodic_enqueue_due
from csv_processor.services.training.maintenance import training_periodic_enqueue_due
from users.tasks import session_cleanup_task

logger = logging.getLogger(__name__)

WORKER_DIED = "csv_processor.services.jobs.workers.WorkerDied"
INTERRUPTED = "csv_processor.services.jobs.workers.Interrupted"


def worker_heartbeat_record(*, worker_id: str, started_at: dt.datetime) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen_at": timezone.now(),
        },
    )
    return heartbeat


def worker_heartbeat_delete(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def dead_worker_tasks_fail() -> int:
    """Mark FAILED the task rows left RUNNING by a worker that died (SIGKILL, out of memory, power loss).

    Nobody will ever finish them, and they would count as running for ever (csva_tasks_running). The jobs
    behind them recover on their own: the training reaper re-queues runs from their own heartbeat, and
    job_recovery the uploads, profiles and cleaning jobs.
    """
    cutoff = timezone.now() - dt.timedelta(seconds=settings.WORKER_STALE_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(last_seen_at__gte=cutoff).values_list("worker_id", flat=True))
    # Started before the cutoff: a worker that just claimed a task has beaten by now if it lives.
    running = _running_by_worker(DBTaskResult.objects.running().filter(started_at__lt=cutoff))
    orphaned = [pk for pk, worker_id in running if worker_id not in alive]
    failed = _running_fail(
        orphaned, cause=WORKER_DIED, message="The worker running this task stopped without finishing it (no heartbeat)."
    )
    if failed:
        logger.warning("%d task(s) of dead workers marked failed", failed)
    return failed


def worker_tasks_fail(*, worker_id: str) -> int:
    """Mark FAILED the task rows this (living) worker left RUNNING when its database went away mid-task.

    A worker runs one task at a time, so when its loop starts again none of its rows is still running.
    """
    mine = [pk for pk, last in _running_by_worker(DBTaskResult.objects.running()) if last == worker_id]
    return _running_fail(
        mine,
        cause=INTERRUPTED,
        message="The database connection was lost while this task ran; its job is queued again.",
    )


def _running_by_worker(running) -> list[tuple[object, str | None]]:
    """(task row id, the worker that claimed it last) of each row in `running`."""
    return [(pk, worker_ids[-1] if worker_ids else None) for pk, worker_ids in running.values_list("pk", "worker_ids")]


def _running_fail(pks: list, *, cause: str, message: str) -> int:
    if not pks:
        return 0
    return (
        DBTaskResult.objects.running()
        .filter(pk__in=pks)
        .update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now(), exception_class_path=cause, traceback=message
        )
    )


def periodic_tasks_enqueue_due() -> list[str]:
    """Enqueue each periodic task whose last run is older than its interval; return their names."""
    enqueued = []
    dead_worker_tasks_fail()
    interrupted_jobs_requeue()
    for task, seconds in (
        (session_cleanup_task, settings.SESSION_CLEANUP_INTERVAL_SECONDS),
        (task_get("stored_files_sweep_task"), settings.STORAGE_SWEEP_INTERVAL_SECONDS),
    ):
        if not task_queued_within(task, seconds):
            task.enqueue()
            enqueued.append(task.name)
    # Training: reap runs of dead workers, schedule the MLflow logging retry (services/training_maintenance.py).
    enqueued += training_periodic_enqueue_due()
    # Serving: drift of deployed models, the prediction log's pruning, retrainings ready to compare.
    enqueued += serving_periodic_enqueue_due()
    return enqueued
