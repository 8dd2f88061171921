"""A worker's training hands the MLflow logging to its own task, which waits behind uploads and other jobs."""

import pytest
from django_tasks_db.models import DBTaskResult
from mlflow.tracking import MlflowClient

from csv_processor.models import TrainingRun
from csv_processor.tasks import (
    TRACKING_PRIORITY,
    dataset_version_profile_task,
    training_run_execute_task,
    training_run_track_task,
    training_tracking_retry_task,
    upload_ingest_task,
)
from tests.csv_processor.helpers import queue_run


@pytest.mark.slow
def test_training_task_leaves_tracking_pending_with_a_low_priority_task_that_logs_it(
    user,
    dataset,
    mlflow_store,
    django_capture_on_commit_callbacks,
):
    run = queue_run(user, dataset.current_version)

    with django_capture_on_commit_callbacks(execute=True):
        training_run_execute_task.call(run.pk)

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.tracking_status == TrainingRun.Tracking.PENDING
    assert not run.mlflow_run_id
    queued = DBTaskResult.objects.get(task_path=training_run_track_task.module_path)
    assert (queued.priority, queued.args_kwargs["args"]) == (TRACKING_PRIORITY, [run.pk])
    assert TRACKING_PRIORITY < 0

    training_run_track_task.call(run.pk)

    run.refresh_from_db()
    assert run.tracking_status == TrainingRun.Tracking.TRACKED, run.tracking_error
    logged = MlflowClient(tracking_uri=mlflow_store).get_run(run.mlflow_run_id)
    assert logged.data.tags["csv_analyzer.training_run_id"] == str(run.pk)
    # The task is idempotent: a second one (or the periodic retry) finds nothing left to log.
    training_run_track_task.call(run.pk)
    run.refresh_from_db()
    assert run.tracking_attempts == 1


def test_worker_takes_queued_uploads_and_profiles_before_mlflow_logging(db):
    ours = [
        training_run_track_task.enqueue(1),
        training_tracking_retry_task.enqueue(),
        upload := upload_ingest_task.enqueue(2),
        profile := dataset_version_profile_task.enqueue(3),
    ]

    # The order db_worker takes them in: DBTaskResult.objects.ready() ... get_locked() takes the first. Only
    # this test's tasks: a worker process of an earlier test may have queued its periodic ones meanwhile.
    order = [str(result.id) for result in DBTaskResult.objects.ready().filter(id__in=[task.id for task in ours])]

    # Within one priority the order may tie (on PostgreSQL the two tasks enqueued together came either way).
    assert set(order[:2]) == {upload.id, profile.id}
    paths = {DBTaskResult.objects.get(id=task_id).task_path for task_id in order[2:]}
    assert paths == {training_run_track_task.module_path, training_tracking_retry_task.module_path}
