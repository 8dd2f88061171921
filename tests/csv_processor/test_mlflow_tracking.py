"""MLflow away: training still succeeds, tracking waits as "pending" (in bounded time) and the retry logs it."""

import socket
import time

import pytest
from mlflow.tracking import MlflowClient

from csv_processor.models import TrainingRun
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.maintenance import training_periodic_enqueue_due
from csv_processor.services.training.tracking import registered_model_name, training_runs_track_pending
from tests.csv_processor.helpers import queue_run


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_unreachable_mlflow_leaves_tracking_pending_then_retry_logs_it(user, dataset, settings, tmp_path):
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{_closed_port()}"
    run = queue_run(user, dataset.current_version)

    started = time.monotonic()
    done = training_run_execute(run_id=run.pk)
    took = time.monotonic() - started

    assert done.status == TrainingRun.Status.SUCCEEDED
    assert done.tracking_status == TrainingRun.Tracking.PENDING
    assert "unreachable" in done.tracking_error
    assert took < 5 + 30
    assert training_periodic_enqueue_due() == ["training_tracking_retry_task"]

    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    settings.MLFLOW_ARTIFACT_ROOT = (tmp_path / "artifacts").as_uri()
    assert training_runs_track_pending() == 1

    done.refresh_from_db()
    assert done.tracking_status == TrainingRun.Tracking.TRACKED
    client = MlflowClient(tracking_uri=settings.MLFLOW_TRACKING_URI)
    logged = client.get_run(done.mlflow_run_id)
    assert logged.data.tags["csv_analyzer.training_run_id"] == str(done.pk)
    assert logged.data.metrics["test_accuracy"] > 0
    assert logged.data.params["max_trials"] == "3"  # queue_run makes exact runs
    assert logged.data.params["candidates_tried"] == str(done.candidates_tried)
    assert client.get_model_version(done.registered_model_name, done.registered_model_version)
    assert training_runs_track_pending() == 0


def test_registered_model_name_is_safe_and_bounded():
    name = registered_model_name(dataset_id=7, target="Prix (€) / m² " + "x" * 300)

    assert name.startswith("csv-analyzer-dataset-7-Prix")
    assert len(name) <= 100
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
