"""Shared fixtures: media and MLflow stores in tmp_path, users from factories, a dataset, a deployed model;
the shared datasets' gate."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from csv_processor.models import CleanModelArtifact
from csv_processor.services.serving.deploy import deployed_model_deploy
from tests.csv_processor.helpers import (
    UNREACHABLE_MLFLOW,
    Served,
    classification_csv,
    make_dataset,
    train_and_deploy,
)
from tests.factories import UserFactory
from tests.shared_datasets import ABSENT_REASON, MANIFEST_PATH, SHARED_DATASETS, shared_datasets_present
from users.services import api_token_create

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that takes the fixture needs the folder as much as one that carries the marker.
    for item in items:
        if "shared_datasets" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.needs_shared_datasets)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The one place that decides about ../shared/datasets: optional on a newcomer's clone, required in CI."""
    if item.get_closest_marker("needs_shared_datasets") is None or shared_datasets_present():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires the shared datasets, and there is no {MANIFEST_PATH}", pytrace=False)
    pytest.skip(ABSENT_REASON)


@pytest.fixture
def shared_datasets() -> Path:
    """The folder of real datasets (../shared/datasets); its tests are skipped or failed above when absent."""
    return SHARED_DATASETS


@pytest.fixture(autouse=True)
def media_root(request, settings, tmp_path):
    """A fresh media folder per test; in a module marked `served_media`, the folder of the module's
    `served` model instead (trained once per module), with tracking off and the prediction log unbuffered."""
    if request.node.get_closest_marker("served_media"):
        served = request.getfixturevalue("served")
        settings.MEDIA_ROOT = served.media
        settings.MLFLOW_TRACKING_URI = UNREACHABLE_MLFLOW
        # Write logged predictions in the request, so a test sees them at once.
        settings.PREDICTION_LOG_FLUSH_SECONDS = 0
        return served.media
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture(scope="module", autouse=True)
def _served_before_transactions(request):
    """In a module marked `served_media`, set up `served` at module scope: asked for first by a test, it
    would be created inside that test's transaction and rolled back with it."""
    if request.node.get_closest_marker("served_media"):
        request.getfixturevalue("served")


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, tmp_path_factory):
    """A classifier trained and deployed once per module (outside the per-test transactions), with two users
    and their API tokens; its rows are removed at the end. A module may override it with another model."""
    media = tmp_path_factory.mktemp("serving-media")
    with override_settings(MEDIA_ROOT=media, MLFLOW_TRACKING_URI=UNREACHABLE_MLFLOW), django_db_blocker.unblock():
        suggestion_models = set(CleanModelArtifact.objects.values_list("pk", flat=True))
        user, other = UserFactory(), UserFactory()
        run = train_and_deploy(
            user, media, classification_csv(), target="label", algorithms=("LogisticRegression",), name="clients.csv"
        )
        model = deployed_model_deploy(owner=user, run=run)
        _, token = api_token_create(user=user, name="tests")
        _, other_token = api_token_create(user=other, name="tests")
        yield Served(user, other, token, other_token, run, model, media)
        user.delete()
        other.delete()
        # The suggestion model trained on first use belongs to no user: its file goes with this media folder.
        CleanModelArtifact.objects.exclude(pk__in=suggestion_models).delete()


@pytest.fixture
def dataset(user, tmp_path):
    """The classification table of helpers.classification_csv, imported for `user`."""
    return make_dataset(user, tmp_path, classification_csv(), name="clients.csv")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # The production hasher is slow on purpose; tests only need a real one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


def _database_url(settings_dict: dict) -> str:
    """The URL of the database the tests run on, for a child process to share it."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def mlflow_store(settings, tmp_path):
    """A real MLflow store on SQLite in tmp_path, artifacts beside it; override it for another store."""
    settings.MLFLOW_TRACKING_URI = f"sqlite:///{tmp_path}/mlruns.db"
    settings.MLFLOW_ARTIFACT_ROOT = (tmp_path / "mlartifacts").as_uri()
    return settings.MLFLOW_TRACKING_URI


@pytest.fixture
def worker_process(transactional_db, settings, tmp_path, mlflow_store):
    """A real `manage.py db_worker` process on the test database and the test's MLflow store (never the
    checkout's: the worker runs in the project root); stopped (SIGTERM) at the end."""
    from django.db import connection

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
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2", "--no-startup-delay"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def wait_for(predicate, *, timeout: float = 30.0, interval: float = 0.2):
    """Poll until predicate() is truthy; return its value or fail the test with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
