"""The background-job wiring end to end: a real db_worker process runs a real task."""

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from csv_processor.models import WorkerHeartbeat
from csv_processor.selectors.datasets import worker_last_seen_seconds
from csv_processor.services.jobs.workers import periodic_tasks_enqueue_due
from csv_processor.tasks import stored_files_sweep_task
from tests.conftest import wait_for
from users.tasks import session_cleanup_task


def _make_session(*, expired: bool) -> str:
    store = SessionStore()
    store["marker"] = "x"
    store.create()
    if expired:
        Session.objects.filter(session_key=store.session_key).update(expire_date=timezone.now() - dt.timedelta(days=1))
    return store.session_key


@pytest.mark.slow
def test_db_worker_runs_session_cleanup_task(worker_process):
    expired_key = _make_session(expired=True)
    live_key = _make_session(expired=False)

    result = session_cleanup_task.enqueue()

    row = wait_for(
        lambda: DBTaskResult.objects.filter(id=result.id, status=TaskResultStatus.SUCCESSFUL).first(),
        timeout=60,
    )
    assert row.return_value >= 1
    assert not Session.objects.filter(session_key=expired_key).exists()
    assert Session.objects.filter(session_key=live_key).exists()


def test_db_worker_tracks_to_the_tests_mlflow_store_not_the_checkout(worker_process, mlflow_store, tmp_path):
    # The worker runs in the project root: a default store there would fill the checkout with MLflow files.
    raw = Path(f"/proc/{worker_process.pid}/environ").read_bytes().decode()
    environ = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)

    assert environ["MLFLOW_TRACKING_URI"] == mlflow_store
    assert environ["MLFLOW_TRACKING_URI"].startswith(f"sqlite:///{tmp_path}")
    assert environ["MLFLOW_ARTIFACT_ROOT"] == (tmp_path / "mlartifacts").as_uri()


@pytest.mark.slow
def test_db_worker_reports_heartbeat_and_readyz_sees_it(worker_process, client):
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=60)
    assert worker_last_seen_seconds() < 30

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["worker"] == "ok"


@pytest.mark.slow
def test_db_worker_removes_its_heartbeat_on_shutdown(worker_process):
    wait_for(lambda: WorkerHeartbeat.objects.exists(), timeout=60)

    worker_process.terminate()
    worker_process.wait(timeout=15)

    assert not WorkerHeartbeat.objects.exists()


def test_periodic_tasks_enqueue_due_enqueues_once_per_interval(db):
    first = periodic_tasks_enqueue_due()
    second = periodic_tasks_enqueue_due()

    assert first == [session_cleanup_task.name, stored_files_sweep_task.name]
    assert second == []
    assert DBTaskResult.objects.filter(task_path=session_cleanup_task.module_path).count() == 1
    assert DBTaskResult.objects.filter(task_path=stored_files_sweep_task.module_path).count() == 1
