"""The MLflow server stopped while a run trains: the run succeeds, its tracking waits, then completes.

A real `mlflow server` on a SQLite store in the test's folder; a real task worker with the MLflow retry
shortened to seconds through the environment.
"""

import time

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult
from mlflow.tracking import MlflowClient

from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.tasks import training_tracking_retry_task
from tests.conftest import _database_url, wait_for
from tests.csv_processor.helpers import classification_csv, make_dataset, queue_run
from tests.faults.conftest import WORKER_COMMAND

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def _run(pk: int) -> TrainingRun:
    return TrainingRun.objects.get(pk=pk)


def _retries_finished() -> int:
    return DBTaskResult.objects.finished().filter(task_path=training_tracking_retry_task.module_path).count()


def test_mlflow_stopped_during_training_run_succeeds_and_is_tracked_once_it_is_back(rig, user, tmp_path, settings):
    rig.start_mlflow(f"sqlite:///{rig.workdir / 'mlflow.db'}", wait=False)
    env = rig.env(_database_url(connection.settings_dict), settings.MEDIA_ROOT, MLFLOW_TRACKING_URI=rig.mlflow_url)
    rig.spawn("worker", WORKER_COMMAND, env)
    dataset = make_dataset(user, tmp_path, classification_csv(300), name="outage.csv")
    rig.wait_mlflow()
    # Auto mode spends its budget: long enough for the server to stop while the run trains (logging is a
    # task of its own afterwards, so a run of two quick fits ended before MLflow was down).
    run = queue_run(user, dataset.current_version, budget_seconds=15)

    wait_for(lambda: _run(run.pk).status == TrainingRun.Status.RUNNING, timeout=60, interval=0.1)
    rig.stop_process("mlflow")
    assert _run(run.pk).status == TrainingRun.Status.RUNNING, "training ended before MLflow was stopped"

    wait_for(lambda: not _run(run.pk).is_in_progress, timeout=90, interval=0.2)
    run = _run(run.pk)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert TrainedModel.objects.filter(run=run).count() == 1
    # The retry (every 2 s here) keeps trying while the server is away; the outage uses up no attempt.
    retried = _retries_finished()
    wait_for(lambda: _retries_finished() >= retried + 2, timeout=60, interval=0.2)
    run = _run(run.pk)
    assert run.tracking_status == TrainingRun.Tracking.PENDING
    assert run.tracking_attempts == 0
    assert "unreachable" in run.tracking_error
    assert not run.mlflow_run_id

    rig.restart("mlflow")
    rig.wait_mlflow()
    back_at = time.monotonic()
    waiting = (TrainingRun.Tracking.PENDING, TrainingRun.Tracking.LOGGING)
    wait_for(lambda: _run(run.pk).tracking_status not in waiting, timeout=90, interval=0.5)
    assert _run(run.pk).tracking_status == TrainingRun.Tracking.TRACKED, _run(run.pk).tracking_error
    print(f"\ntracked {time.monotonic() - back_at:.1f}s after MLflow came back")  # noqa: T201 - pytest's report

    run = _run(run.pk)
    client = MlflowClient(tracking_uri=rig.mlflow_url)
    parents = client.search_runs(
        [run.mlflow_experiment_id], filter_string=f"tags.`csv_analyzer.training_run_id` = '{run.pk}'"
    )
    assert [parent.info.run_id for parent in parents] == [run.mlflow_run_id]
    logged = parents[0]
    assert logged.info.status == "FINISHED"
    assert logged.data.metrics["test_accuracy"] == pytest.approx(run.metrics["accuracy"])
    assert logged.data.params["best_algorithm"] == run.best_algorithm
    versions = client.search_model_versions(f"name = '{run.registered_model_name}'")
    assert [(version.version, version.run_id) for version in versions] == [
        (run.registered_model_version, run.mlflow_run_id)
    ]
