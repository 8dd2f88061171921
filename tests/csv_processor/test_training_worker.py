"""Training through real worker processes, including one killed (SIGKILL) in the middle of a run."""

import datetime as dt
import os
import signal
import subprocess
import sys

import pytest
from django.db import connection
from django.utils import timezone

from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.services.training.maintenance import training_runs_reap
from tests.conftest import PROJECT_ROOT, _database_url, wait_for
from tests.csv_processor.helpers import classification_csv, make_dataset, queue_run


def _second_worker(settings, tmp_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "worker-test-key",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "MLFLOW_TRACKING_URI": settings.MLFLOW_TRACKING_URI,
        "MLFLOW_ARTIFACT_ROOT": settings.MLFLOW_ARTIFACT_ROOT,
        "CSVA_WORKER_HEARTBEAT_SECONDS": "1",
    }
    log = (tmp_path / "worker2.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.slow
def test_worker_killed_mid_training_is_reaped_requeued_and_finished_once(
    mlflow_store,
    user,
    worker_process,
    settings,
    tmp_path,
):
    dataset = make_dataset(user, tmp_path, classification_csv(400), name="big.csv")
    run = queue_run(user, dataset.current_version, budget_seconds=30)
    wait_for(lambda: TrainingRun.objects.filter(pk=run.pk, status=TrainingRun.Status.RUNNING).exists(), timeout=90)

    os.kill(worker_process.pid, signal.SIGKILL)
    worker_process.wait(timeout=10)
    settings.TRAINING_STALE_SECONDS = 1
    # The heartbeat stops with the worker: age it past the stale window instead of waiting for it.
    TrainingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=5))

    assert training_runs_reap() == [run.pk]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
    assert run.attempts == 1
    assert not TrainedModel.objects.exists()

    # The retry need not take the full budget again.
    TrainingRun.objects.filter(pk=run.pk).update(budget_seconds=5)
    second = _second_worker(settings, tmp_path)
    try:
        wait_for(
            lambda: TrainingRun.objects.filter(pk=run.pk).exclude(status__in=["queued", "running"]).exists(),
            timeout=180,
            interval=0.5,
        )
    finally:
        # SIGTERM lets the worker finish its job, MLflow logging included (39 s seen on a busy machine).
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=120)
        except subprocess.TimeoutExpired:
            second.kill()
            raise
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert TrainedModel.objects.filter(run=run).count() == 1
