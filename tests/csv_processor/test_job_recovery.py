"""Jobs whose task ended without finishing them (the database went away as it saved) are queued again."""

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from csv_processor.models import CleaningJob, DatasetVersion, Upload
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.datasets.manage import dataset_version_profile_compute
from csv_processor.services.jobs.recovery import interrupted_jobs_requeue
from csv_processor.services.jobs.workers import INTERRUPTED, worker_tasks_fail
from csv_processor.tasks import cleaning_job_execute_task, dataset_version_profile_task
from tests.csv_processor.helpers import make_dataset
from users.tasks import session_cleanup_task

pytestmark = pytest.mark.django_db

BODY = b"city,temp\nOslo,3\nRome,18\nLima,21\n"
LONG_AGO = timezone.now() - dt.timedelta(hours=1)


@pytest.fixture
def version(user, tmp_path):
    return make_dataset(user, tmp_path, BODY).current_version


def _live_tasks(task) -> list:
    rows = DBTaskResult.objects.filter(
        task_path=task.module_path, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    return [row.args_kwargs["args"][0] for row in rows]


def _stuck_profile(version: DatasetVersion) -> None:
    """What a profile task leaves when the database is lost as it saves: the row says running, no task."""
    DBTaskResult.objects.filter(task_path=dataset_version_profile_task.module_path).delete()
    DatasetVersion.objects.filter(pk=version.pk).update(
        profile_status=DatasetVersion.ProfileStatus.RUNNING, created_at=LONG_AGO
    )


def test_interrupted_profile_is_queued_again_and_then_completes(version):
    _stuck_profile(version)

    assert interrupted_jobs_requeue() == {"DatasetVersion": [version.pk]}

    version.refresh_from_db()
    assert version.profile_status == DatasetVersion.ProfileStatus.PENDING
    assert _live_tasks(dataset_version_profile_task) == [version.pk]
    # Queued once: a second pass sees the live task and leaves the version alone.
    assert interrupted_jobs_requeue() == {}
    assert dataset_version_profile_compute(version_id=version.pk).profile_status == "ready"


def test_jobs_with_a_live_task_recent_or_finished_are_left_alone(version):
    _stuck_profile(version)
    dataset_version_profile_task.enqueue(version.pk)  # its task is still queued: the worker will get to it
    ready = DatasetVersion.objects.filter(pk=version.pk).values_list("profile_status", flat=True)

    assert interrupted_jobs_requeue() == {}
    DatasetVersion.objects.filter(pk=version.pk).update(created_at=timezone.now())
    DBTaskResult.objects.all().delete()
    assert interrupted_jobs_requeue() == {}, "a job just created waits for its task to be enqueued on commit"
    DatasetVersion.objects.filter(pk=version.pk).update(
        created_at=LONG_AGO, profile_status=DatasetVersion.ProfileStatus.READY
    )
    assert interrupted_jobs_requeue() == {}
    assert list(ready) == [DatasetVersion.ProfileStatus.READY]


def test_interrupted_cleaning_job_and_upload_are_queued_again(user, version, settings):
    settings.SYNC_CLEAN_MAX_ROWS = 0  # through the worker, as for big data
    job = cleaning_job_create(
        owner=user, version=version, op="change_case", params={"column": "city", "case": "upper"}, confirm_loss=False
    )
    CleaningJob.objects.filter(pk=job.pk).update(status=CleaningJob.Status.RUNNING, created_at=LONG_AGO)
    upload = Upload.objects.get()
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.RUNNING, created_at=LONG_AGO)
    DBTaskResult.objects.all().delete()

    requeued = interrupted_jobs_requeue()

    assert requeued == {"Upload": [upload.pk], "CleaningJob": [job.pk]}
    assert CleaningJob.objects.get(pk=job.pk).status == CleaningJob.Status.QUEUED
    assert Upload.objects.get(pk=upload.pk).status == Upload.Status.QUEUED
    assert _live_tasks(cleaning_job_execute_task) == [job.pk]


def test_task_results_of_worker_fail_only_touches_this_workers_running_rows():
    rows = {}
    for worker_id in ("me", "other"):
        rows[worker_id] = DBTaskResult.objects.get(id=session_cleanup_task.enqueue().id)
        rows[worker_id].claim(worker_id)
    waiting = DBTaskResult.objects.get(id=session_cleanup_task.enqueue().id)

    assert worker_tasks_fail(worker_id="me") == 1

    statuses = dict(DBTaskResult.objects.values_list("pk", "status"))
    assert statuses[rows["me"].pk] == TaskResultStatus.FAILED
    assert statuses[rows["other"].pk] == TaskResultStatus.RUNNING
    assert statuses[waiting.pk] == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=rows["me"].pk).exception_class_path == INTERRUPTED
    assert worker_tasks_fail(worker_id="me") == 0
