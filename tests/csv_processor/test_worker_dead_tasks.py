"""Task rows left RUNNING by a worker that died are failed by the survivors' housekeeping."""

import datetime as dt

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from csv_processor.models import WorkerHeartbeat
from csv_processor.services.jobs.workers import WORKER_DIED, dead_worker_tasks_fail
from users.tasks import session_cleanup_task


def _running(worker_id: str, *, started_seconds_ago: float) -> DBTaskResult:
    result = DBTaskResult.objects.get(id=session_cleanup_task.enqueue().id)
    result.claim(worker_id)
    DBTaskResult.objects.filter(pk=result.pk).update(
        started_at=timezone.now() - dt.timedelta(seconds=started_seconds_ago)
    )
    return result


def _beat(worker_id: str, *, seconds_ago: float) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id, hostname="h", pid=1, started_at=now, last_seen_at=now - dt.timedelta(seconds=seconds_ago)
    )


def test_task_results_of_dead_workers_fail_only_touches_dead_workers_tasks(db, settings):
    settings.WORKER_STALE_SECONDS = 10
    _beat("alive", seconds_ago=1)
    _beat("dead", seconds_ago=60)
    of_live = _running("alive", started_seconds_ago=60)
    of_dead = _running("dead", started_seconds_ago=60)
    of_vanished = _running("killed-before-any-beat", started_seconds_ago=60)
    just_claimed = _running("new-worker", started_seconds_ago=1)

    assert dead_worker_tasks_fail() == 2

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[of_live.pk] == TaskResultStatus.RUNNING
    assert statuses[just_claimed.pk] == TaskResultStatus.RUNNING
    assert statuses[of_dead.pk] == statuses[of_vanished.pk] == TaskResultStatus.FAILED
    assert DBTaskResult.objects.get(pk=of_dead.pk).exception_class_path == WORKER_DIED
    assert dead_worker_tasks_fail() == 0
