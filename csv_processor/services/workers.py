"""Worker liveness and the small scheduler the worker runs between tasks."""

import datetime as dt
import logging
import os
import socket

from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from csv_processor.models import WorkerHeartbeat
from csv_processor.services.drift import serving_periodic_enqueue_due
from csv_processor.services.training_maintenance import training_periodic_enqueue_due
from users.tasks import session_cleanup_task

logger = logging.getLogger(__name__)


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


def periodic_tasks_enqueue_due() -> list[str]:
    """Enqueue each periodic task whose last run is older than its interval; return their names."""
    enqueued = []
    interval = dt.timedelta(seconds=settings.SESSION_CLEANUP_INTERVAL_SECONDS)
    recent = DBTaskResult.objects.filter(
        task_path=session_cleanup_task.module_path, enqueued_at__gte=timezone.now() - interval
    )
    if not recent.exists():
        session_cleanup_task.enqueue()
        enqueued.append(session_cleanup_task.name)
    # Training: reap runs of dead workers, schedule the MLflow logging retry (services/training_maintenance.py).
    enqueued += training_periodic_enqueue_due()
    # Serving: drift of deployed models, the prediction log's pruning, retrainings ready to compare.
    enqueued += serving_periodic_enqueue_due()
    return enqueued
