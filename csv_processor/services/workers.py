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
from csv_processor.services.drift import serving_periodic_enqueue_due
from csv_processor.services.job_recovery import interrupted_jobs_requeue
from csv_processor.services.training_maintenance import training_periodic_enqueue_due
from users.tasks import session_cleanup_task

logger = logging.getLogger(__name__)

WORKER_DIED = "csv_processor.services.workers.WorkerDied"


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


def task_results_of_dead_workers_fail() -> int:
    """Mark FAILED the task rows left RUNNING by a worker that died (SIGKILL, out of memory, power loss).

    Nobody will ever finish them, and they would count as running for ever (csva_tasks_running). The jobs
    behind them recover on their own: the training reaper re-queues runs from their own heartbeat.
    """
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=settings.WORKER_STALE_SECONDS)
    alive = set(WorkerHeartbeat.objects.filter(last_seen_at__gte=cutoff).values_list("worker_id", flat=True))
    # Started before the cutoff: a worker that just claimed a task has beaten by now if it lives.
    running = DBTaskResult.objects.running().filter(started_at__lt=cutoff).values_list("pk", "worker_ids")
    orphaned = [pk for pk, worker_ids in running if not worker_ids or worker_ids[-1] not in alive]
    if not orphaned:
        return 0
    failed = (
        DBTaskResult.objects.running()
        .filter(pk__in=orphaned)
        .update(
            status=TaskResultStatus.FAILED,
            finished_at=now,
            exception_class_path=WORKER_DIED,
            traceback="The worker running this task stopped without finishing it (no heartbeat).",
        )
    )
    logger.warning("%d task(s) of dead workers marked failed", failed)
    return failed


def periodic_tasks_enqueue_due() -> list[str]:
    """Enqueue each periodic task whose last run is older than its interval; return their names."""
    from csv_processor.tasks import stored_files_sweep_task  # tasks imports the services

    enqueued = []
    task_results_of_dead_workers_fail()
    interrupted_jobs_requeue()
    for task, seconds in (
        (session_cleanup_task, settings.SESSION_CLEANUP_INTERVAL_SECONDS),
        (stored_files_sweep_task, settings.STORAGE_SWEEP_INTERVAL_SECONDS),
    ):
        interval = dt.timedelta(seconds=seconds)
        if not DBTaskResult.objects.filter(
            task_path=task.module_path, enqueued_at__gte=timezone.now() - interval
        ).exists():
            task.enqueue()
            enqueued.append(task.name)
    # Training: reap runs of dead workers, schedule the MLflow logging retry (services/training_maintenance.py).
    enqueued += training_periodic_enqueue_due()
    # Serving: drift of deployed models, the prediction log's pruning, retrainings ready to compare.
    enqueued += serving_periodic_enqueue_due()
    return enqueued
