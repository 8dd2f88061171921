"""An MLflow outage of any length leaves tracking pending, and retries never pile up behind a long job."""

import socket

from django_tasks_db.models import DBTaskResult

from csv_processor.models import TrainingRun
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.maintenance import training_periodic_enqueue_due
from csv_processor.services.training.tracking import MAX_TRACKING_ATTEMPTS, training_runs_track_pending
from csv_processor.tasks import training_tracking_retry_task
from tests.csv_processor.helpers import queue_run


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pending_run(user, version, settings) -> TrainingRun:
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{_closed_port()}"
    run = queue_run(user, version, algorithms=["DecisionTree"])
    return training_run_execute(run_id=run.pk)


def test_unreachable_mlflow_never_uses_up_the_tracking_attempts(user, dataset, settings):
    run = _pending_run(user, dataset.current_version, settings)

    for _ in range(MAX_TRACKING_ATTEMPTS + 2):
        assert training_runs_track_pending() == 0

    run.refresh_from_db()
    assert run.tracking_status == TrainingRun.Tracking.PENDING
    assert run.tracking_attempts == 0
    assert "unreachable" in run.tracking_error


def test_tracking_retry_is_not_enqueued_again_while_one_waits(user, dataset, settings):
    _pending_run(user, dataset.current_version, settings)
    settings.MLFLOW_RETRY_SECONDS = 0

    first = training_periodic_enqueue_due()
    second = training_periodic_enqueue_due()

    assert first == [training_tracking_retry_task.name]
    assert second == []
    assert DBTaskResult.objects.filter(task_path=training_tracking_retry_task.module_path).count() == 1
