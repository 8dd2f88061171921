"""Jobs whose task ended without finishing them are queued again.

An upload being parsed, a version being profiled or ranked against a target, or a cleaning step applied
in the worker is a status row plus a task. If the database goes away while the task saves its result, or
the worker is killed, the task row ends (failed by `services.workers` for a living or a dead worker)
while the job row still says "running": the user would watch a spinner for ever. Each job's service
claims only a waiting row, so queueing it again is safe (ADR 0002). Training runs have their own
heartbeat reaper.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from csv_processor.models import CleaningJob, DatasetVersion, TargetExploration, Upload
from csv_processor.services.jobs.queue import task_get

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    model: type[Upload] | type[DatasetVersion] | type[CleaningJob] | type[TargetExploration]
    status_field: str
    unfinished: tuple[str, ...]
    waiting: str
    task: Task


def _jobs() -> tuple[_Job, ...]:
    profile = DatasetVersion.ProfileStatus
    return (
        _Job(Upload, "status", (Upload.Status.QUEUED, Upload.Status.RUNNING), Upload.Status.QUEUED,
             task_get("upload_ingest_task")),
        _Job(DatasetVersion, "profile_status", (profile.PENDING, profile.RUNNING), profile.PENDING,
             task_get("dataset_version_profile_task")),
        _Job(CleaningJob, "status", (CleaningJob.Status.QUEUED, CleaningJob.Status.RUNNING),
             CleaningJob.Status.QUEUED, task_get("cleaning_job_execute_task")),
        _Job(TargetExploration, "status", (TargetExploration.Status.QUEUED, TargetExploration.Status.RUNNING),
             TargetExploration.Status.QUEUED, task_get("target_exploration_task")),
    )  # fmt: skip


def interrupted_jobs_requeue() -> dict[str, list[int]]:
    """Queue again every unfinished job that no queued or running task will finish; return their ids."""
    # Older than the stale window: a job is created, committed, then its task enqueued on commit.
    cutoff = timezone.now() - dt.timedelta(seconds=settings.WORKER_STALE_SECONDS)
    live = DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    requeued = {}
    for job in _jobs():
        task = job.task
        unfinished = job.model.objects.filter(
            **{f"{job.status_field}__in": job.unfinished}, created_at__lt=cutoff
        ).values_list("pk", flat=True)
        if not unfinished:
            continue
        queued = live.filter(task_path=task.module_path).values_list("args_kwargs", flat=True)
        pending = {args_kwargs["args"][0] for args_kwargs in queued if args_kwargs.get("args")}
        ids = [pk for pk in unfinished if pk not in pending]
        for pk in ids:
            if job.model.objects.filter(pk=pk, **{f"{job.status_field}__in": job.unfinished}).update(
                **{job.status_field: job.waiting}
            ):
                task.enqueue(pk)
        if ids:
            logger.warning("%s %s: interrupted, queued again", job.model.__name__, ids)
            requeued[job.model.__name__] = ids
    return requeued
