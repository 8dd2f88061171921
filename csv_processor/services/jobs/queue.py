"""The one way services queue background work: by task name.

`tasks.py` is an entrypoint that calls the services, so the services never import it (that was an
import cycle held apart by imports inside functions). They name the task instead; the name is looked
up in `csv_processor.tasks` when the work is queued, and a test checks that every name exists.
See docs/decisions/0007-layout.md.
"""

import datetime as dt
from typing import Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

TASKS_MODULE = "csv_processor.tasks"

TaskName = Literal[
    "upload_ingest_task",
    "dataset_version_profile_task",
    "target_exploration_task",
    "cleaning_job_execute_task",
    "stored_files_sweep_task",
    "training_run_execute_task",
    "training_run_track_task",
    "training_tracking_retry_task",
    "batch_prediction_execute_task",
    "serving_maintenance_task",
    "model_retrain_compare_task",
]


def task_get(name: TaskName) -> Task:
    """The task object of that name (its `module_path` is what task rows store)."""
    return import_string(f"{TASKS_MODULE}.{name}")


def task_enqueue(name: TaskName, *args: int) -> None:
    task_get(name).enqueue(*args)


def task_enqueue_on_commit(name: TaskName, *args: int) -> None:
    """Queue the task once the current transaction commits, so the worker sees the rows it needs."""
    transaction.on_commit(lambda: task_enqueue(name, *args))


def task_queued_within(task: Task, seconds: float, *, or_unfinished: bool = False) -> bool:
    """Whether the task was queued in the last `seconds` (or, with `or_unfinished`, still waits or runs):
    a periodic task is queued again only once this is false."""
    recent = Q(enqueued_at__gte=timezone.now() - dt.timedelta(seconds=seconds))
    if or_unfinished:
        recent |= Q(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    return DBTaskResult.objects.filter(recent, task_path=task.module_path).exists()
