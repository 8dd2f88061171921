"""Metrics: who may read /metrics, what the events count and what the database collector reports."""

import datetime as dt
import importlib.util
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from csv_processor import metrics, metrics_collector
from csv_processor.models import TrainingRun, Upload, WorkerHeartbeat
from csv_processor.selectors.training.setup import algorithm_names
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.uploads import upload_confirm, upload_create
from csv_processor.services.training import maintenance as training_maintenance
from csv_processor.services.training.execute import training_metrics_initialize, training_run_execute
from csv_processor.services.training.maintenance import training_runs_reap
from csv_processor.services.training.runs import training_run_cancel
from csv_processor.storage import files_delete
from csv_processor.tasks import upload_ingest_task
from tests.csv_processor.helpers import classification_csv, make_dataset, post_upload, queue_run
from tests.factories import DEFAULT_PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = "203.0.113.7"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def sample_exists(name: str, **labels: str) -> bool:
    return REGISTRY.get_sample_value(name, labels) is not None


def collected(collector=None) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value for everything the collector reports."""
    families = (collector or metrics_collector.DatabaseCollector()).collect()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in families for s in family.samples}


def scrape(client, **extra) -> dict[str, list]:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    return {family.name: family.samples for family in text_string_to_metric_families(response.content.decode())}


# --- access to /metrics ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_is_404_from_outside_without_a_token(client):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)

    assert response.status_code == 404
    assert b"csva_" not in response.content


@pytest.mark.django_db
def test_metrics_serves_a_direct_request_from_an_allowed_address_without_login(client):
    families = scrape(client, REMOTE_ADDR="127.0.0.1")

    assert "csva_datasets" in families
    assert "django_http_requests_latency_seconds_by_view_method" in families


@pytest.mark.django_db
def test_metrics_refuses_an_allowed_address_that_came_through_a_proxy(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=OUTSIDE)

    assert response.status_code == 404


@pytest.mark.django_db
def test_metrics_accepts_the_bearer_token_and_refuses_a_wrong_one(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    settings.METRICS_ALLOWED_CIDRS = []

    good = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer s3cret-token")
    wrong = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer s3cret-tokem")
    loopback = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert good.status_code == 200
    assert [wrong.status_code, loopback.status_code] == [404, 404]


@pytest.mark.django_db
def test_metrics_without_a_configured_token_refuses_an_empty_bearer(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ")

    assert response.status_code == 404


@pytest.mark.django_db
def test_metrics_counts_requests_by_view_and_status(client, user):
    client.force_login(user)
    client.get(reverse("csv_processor:dataset-list"))

    families = scrape(client, REMOTE_ADDR="127.0.0.1")

    views = {s.labels["view"] for s in families["django_http_requests_total_by_view_transport_method"]}
    assert "csv_processor:dataset-list" in views
    assert "django_db_execute" in families


# --- events ------------------------------------------------------------------------------------------------


def test_bounded_keeps_known_values_and_turns_the_rest_into_other():
    assert metrics.bounded("API", metrics.CHANNELS) == "api"
    assert metrics.bounded("email", metrics.CHANNELS) == "other"
    assert metrics.bounded("random_forest") == "random_forest"
    assert metrics.bounded("alice's file.csv") == "other"
    assert metrics.bounded("x" * 65) == "other"


@pytest.mark.django_db
def test_upload_create_counts_kept_files_bytes_and_refusals_by_reason(user):
    body = b"a,b\n1,2\n3,4\n"
    before = (sample("csva_uploads_total"), sample("csva_upload_bytes_total"))
    refused_before = sample("csva_upload_failures_total", stage="upload", reason="suffix")

    upload_create(owner=user, uploaded_file=BytesIO(body), name="ok.csv", size=len(body))
    with pytest.raises(ValidationError, match=r"Choose a \.csv"):
        upload_create(owner=user, uploaded_file=BytesIO(body), name="notes.pdf", size=len(body))

    assert sample("csva_uploads_total") == before[0] + 1
    assert sample("csva_upload_bytes_total") == before[1] + len(body)
    assert sample("csva_upload_failures_total", stage="upload", reason="suffix") == refused_before + 1


def test_a_failed_background_parse_counts_as_an_ingest_failure(user_client, settings):
    settings.SYNC_PARSE_MAX_BYTES = 0
    before = sample("csva_upload_failures_total", stage="ingest", reason="parse")
    post_upload(user_client, "ragged.csv", b"a,b\n" + b"1,2\n" * 2000 + b"3,4,5\n")
    upload = Upload.objects.get()
    upload_confirm(upload=upload, options=upload.parse_options, dataset_name="R", enqueue=False)

    upload_ingest(upload_id=upload.pk)

    upload.refresh_from_db()
    assert upload.status == Upload.Status.FAILED
    assert sample("csva_upload_failures_total", stage="ingest", reason="parse") == before + 1


@pytest.mark.django_db
def test_signups_logins_and_failed_logins_are_counted(client):
    before = [sample(name) for name in ("csva_signups_total", "csva_logins_total", "csva_login_failures_total")]

    user = UserFactory()
    client.post(reverse("users:login"), {"username": user.username, "password": "wrong"})
    client.post(reverse("users:login"), {"username": user.username, "password": DEFAULT_PASSWORD})
    user.save()  # an update is not a sign-up

    after = [sample(name) for name in ("csva_signups_total", "csva_logins_total", "csva_login_failures_total")]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]


def test_finished_tasks_are_counted_by_name_and_status_and_timed():
    started = timezone.now()
    result = SimpleNamespace(
        task=SimpleNamespace(name="upload_ingest_task"),
        status="FAILED",
        started_at=started,
        finished_at=started + dt.timedelta(seconds=3),
    )
    before = sample("csva_tasks_finished_total", task="upload_ingest_task", status="failed")
    seconds_before = sample("csva_task_duration_seconds_sum", task="upload_ingest_task")

    metrics.on_task_finished(sender=object, task_result=result)

    assert sample("csva_tasks_finished_total", task="upload_ingest_task", status="failed") == before + 1
    assert sample("csva_task_duration_seconds_sum", task="upload_ingest_task") == pytest.approx(seconds_before + 3)


def test_training_and_prediction_calls_use_bounded_labels():
    metrics.training_run_finished(
        problem_type="classification", algorithm="Random Forest!", status="succeeded", seconds=12
    )
    metrics.prediction_recorded(model_id=7, channel="email", seconds=0.02, rows=5)

    assert sample("csva_training_runs_total", problem_type="classification", algorithm="other", status="succeeded") >= 1
    assert sample("csva_prediction_rows_total", model_id="7", channel="other") >= 5
    assert sample("csva_prediction_latency_seconds_count", channel="other") >= 1


@pytest.mark.django_db
def test_a_training_run_that_fails_is_counted_as_failed(user, tmp_path):
    # The data file vanishing between the queue and the worker (a lost or half-restored media volume).
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    files_delete([dataset.current_version.file.name])
    labels = {"problem_type": "classification", "algorithm": "auto", "status": "failed"}
    before = sample("csva_training_runs_total", **labels)

    finished = training_run_execute(run_id=run.pk)

    assert finished.status == finished.Status.FAILED
    assert "data file is missing" in finished.error
    assert sample("csva_training_runs_total", **labels) == before + 1


def _running_with_a_dead_worker(run, *, attempts: int, seconds_ago: int = 600) -> None:
    """Make `run` look like a claim whose worker died (the OOM killer) `seconds_ago` seconds ago."""
    old = timezone.now() - dt.timedelta(seconds=seconds_ago)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING, started_at=old, heartbeat_at=old, attempts=attempts
    )


RUNS_AUTO = {"problem_type": "classification", "algorithm": "auto"}


@pytest.mark.django_db
def test_a_run_whose_worker_died_twice_is_counted_as_failed_once(user, tmp_path, settings):
    settings.TRAINING_STALE_SECONDS = 60
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    before = {status: sample("csva_training_runs_total", **RUNS_AUTO, status=status) for status in metrics.RUN_STATUSES}
    seconds_before = sample("csva_training_duration_seconds_sum", problem_type="classification")

    _running_with_a_dead_worker(run, attempts=1)
    assert training_runs_reap() == [run.pk]  # queued again: not finished, not counted
    requeued = {status: sample("csva_training_runs_total", **RUNS_AUTO, status=status) for status in before}
    _running_with_a_dead_worker(run, attempts=2)
    assert training_runs_reap() == [run.pk]
    assert training_runs_reap() == []

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED
    assert requeued == before
    after = {status: sample("csva_training_runs_total", **RUNS_AUTO, status=status) for status in before}
    assert after == before | {"failed": before["failed"] + 1}
    assert sample("csva_training_duration_seconds_sum", problem_type="classification") == pytest.approx(
        seconds_before + 600, abs=5
    )


@pytest.mark.django_db
def test_a_dead_workers_run_counts_once_when_two_reapers_race(user, tmp_path, settings, monkeypatch):
    settings.TRAINING_STALE_SECONDS = 60
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    _running_with_a_dead_worker(run, attempts=2)
    before = sample("csva_training_runs_total", **RUNS_AUTO, status="failed")
    real_check, raced = training_maintenance._cancel_requested, {}

    def other_reaper_wins_first(run_id):
        # Between this reaper's read and its update, a second worker's reaper ends the run.
        if "other" not in raced:
            raced["other"] = None
            raced["other"] = training_maintenance.training_runs_reap()
        return real_check(run_id)

    monkeypatch.setattr(training_maintenance, "_cancel_requested", other_reaper_wins_first)

    assert training_maintenance.training_runs_reap() == []
    assert raced == {"other": [run.pk]}
    assert sample("csva_training_runs_total", **RUNS_AUTO, status="failed") == before + 1


@pytest.mark.django_db
def test_a_dead_workers_run_with_a_cancel_pending_is_counted_as_cancelled(user, tmp_path, settings):
    settings.TRAINING_STALE_SECONDS = 60
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    _running_with_a_dead_worker(run, attempts=1)
    TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    before = {status: sample("csva_training_runs_total", **RUNS_AUTO, status=status) for status in metrics.RUN_STATUSES}

    assert training_runs_reap() == [run.pk]

    after = {status: sample("csva_training_runs_total", **RUNS_AUTO, status=status) for status in before}
    assert after == before | {"cancelled": before["cancelled"] + 1}


@pytest.mark.django_db
def test_cancelling_a_queued_run_counts_it_without_a_duration(user, tmp_path):
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    before = sample("csva_training_runs_total", **RUNS_AUTO, status="cancelled")
    timed_before = sample("csva_training_duration_seconds_count", problem_type="classification")

    training_run_cancel(run=run)
    with pytest.raises(ValidationError):
        training_run_cancel(run=run)

    assert sample("csva_training_runs_total", **RUNS_AUTO, status="cancelled") == before + 1
    assert sample("csva_training_duration_seconds_count", problem_type="classification") == timed_before


@pytest.mark.django_db
def test_asking_a_running_run_to_stop_leaves_the_count_to_its_worker(user, tmp_path):
    dataset = make_dataset(user, tmp_path, classification_csv(rows=40), name="clients.csv")
    run = queue_run(user, dataset.current_version)
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, heartbeat_at=timezone.now())
    before = sample("csva_training_runs_total", **RUNS_AUTO, status="cancelled")

    training_run_cancel(run=run)

    assert sample("csva_training_runs_total", **RUNS_AUTO, status="cancelled") == before


def test_training_series_start_at_zero_so_the_first_run_is_an_increase():
    metrics.training_runs_initialize(algorithms={"regression": ["NeverTrainedHere"]})
    training_metrics_initialize()

    assert (
        REGISTRY.get_sample_value(
            "csva_training_runs_total",
            {"problem_type": "regression", "algorithm": "nevertrainedhere", "status": "succeeded"},
        )
        == 0
    )
    for problem_type, names in (
        ("classification", algorithm_names()["binary"]),
        ("regression", algorithm_names()["regression"]),
    ):
        for status in metrics.RUN_STATUSES:
            assert sample_exists("csva_training_runs_total", problem_type=problem_type, algorithm="auto", status=status)
        for name in names:
            assert sample_exists(
                "csva_training_runs_total",
                problem_type=problem_type,
                algorithm=metrics.bounded(name),
                status="succeeded",
            )


# --- state read at scrape time ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_collector_reports_datasets_versions_and_upload_states(user, tmp_path):
    make_dataset(user, tmp_path, b"a,b\n1,2\n")

    values = collected()

    assert values[("csva_datasets", ())] == 1
    assert values[("csva_dataset_versions", ())] == 1
    assert values[("csva_uploads_by_status", (("status", "succeeded"),))] == 1
    assert values[("csva_uploads_by_status", (("status", "failed"),))] == 0


@pytest.mark.django_db
def test_collector_reports_queue_depth_oldest_age_and_running_tasks():
    from django_tasks_db.models import DBTaskResult

    key = ("csva_task_queue_depth", (("queue", "default"),))
    before = collected()
    result = upload_ingest_task.enqueue(10**9)
    DBTaskResult.objects.filter(pk=result.id).update(enqueued_at=timezone.now() - dt.timedelta(minutes=5))

    values = collected()

    assert values[key] == before[key] + 1
    assert values[("csva_task_queue_oldest_age_seconds", (("queue", "default"),))] >= 300
    assert (
        values[("csva_tasks_running", (("queue", "default"),))]
        == before[("csva_tasks_running", (("queue", "default"),))]
    )


@pytest.mark.django_db
def test_collector_counts_only_workers_with_a_fresh_heartbeat(settings):
    now = timezone.now()
    for worker_id, age in (("fresh", 1), ("stale", settings.WORKER_STALE_SECONDS + 5)):
        seen = now - dt.timedelta(seconds=age)
        WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="h", pid=1, started_at=seen, last_seen_at=seen)

    assert collected()[("csva_workers_alive", ())] == 1


@pytest.mark.django_db
def test_collector_reports_active_users_and_weekly_retention():
    now = timezone.now()
    retained, lapsed, new, idle = (UserFactory() for _ in range(4))
    retained.last_login = now - dt.timedelta(minutes=1)
    new.last_login = now - dt.timedelta(hours=5)
    for user in (retained, new):
        user.save(update_fields=["last_login"])
    for owner in (retained, lapsed):
        upload = Upload.objects.create(owner=owner, original_name="x.csv", file="x", size_bytes=1, sha256="0")
        Upload.objects.filter(pk=upload.pk).update(created_at=now - dt.timedelta(days=10))

    values = collected()

    active = {window: values[("csva_active_users", (("window", window),))] for window in ("5m", "1h", "1d", "7d")}
    assert active == {"5m": 1, "1h": 1, "1d": 2, "7d": 2}
    assert values[("csva_users", ())] == 4
    assert values[("csva_users_active_last_week", ())] == 2
    assert values[("csva_users_retained_weekly", ())] == 1
    assert idle.pk not in {retained.pk, lapsed.pk, new.pk}


def test_optional_attribute_finds_existing_features_only():
    assert metrics_collector.optional_attribute("csv_processor.models", "Upload") is Upload
    assert metrics_collector.optional_attribute("csv_processor.models", "NoSuchModel") is None
    assert metrics_collector.optional_attribute("csv_processor.no_such_module", "X") is None


@pytest.mark.django_db
def test_installed_model_waits_for_the_table_as_well_as_the_code(monkeypatch):
    assert metrics_collector.installed_model("Upload") is Upload
    assert metrics_collector.installed_model("NoSuchModel") is None

    monkeypatch.setattr(metrics_collector.connection.introspection, "table_names", lambda *args, **kwargs: [])

    assert metrics_collector.installed_model("Upload") is None


@pytest.mark.django_db
def test_collector_reports_the_quality_and_drift_serving_lists(monkeypatch):
    assert not any(name.startswith("csva_model_") for name, _ in collected())
    rows = [
        SimpleNamespace(model_id=3, metric="f1", test_value=0.91, live_value=None, drift=0.4),
        SimpleNamespace(model_id=4, metric="rmse", test_value=2.5, live_value=2.9, drift=None),
    ]
    monkeypatch.setattr("csv_processor.selectors.serving.deployed_model_quality_list", lambda: rows)

    values = collected()

    assert values[("csva_model_test_score", (("metric", "f1"), ("model_id", "3")))] == 0.91
    assert values[("csva_model_live_score", (("metric", "rmse"), ("model_id", "4")))] == 2.9
    assert values[("csva_model_drift", (("model_id", "3"),))] == 0.4
    assert ("csva_model_live_score", (("metric", "f1"), ("model_id", "3"))) not in values
    assert ("csva_model_drift", (("model_id", "4"),)) not in values


@pytest.mark.django_db
def test_collector_reports_training_runs_by_status_when_the_model_exists():
    run_model = metrics_collector.installed_model("TrainingRun")

    names = {name for name, _ in collected()}

    assert ("csva_training_runs_by_status" in names) == (run_model is not None)


@pytest.mark.django_db
def test_collector_leaves_out_a_failing_source_and_says_so(monkeypatch):
    def broken(now):
        raise DatabaseError("no such table")
        yield  # pragma: no cover

    monkeypatch.setattr(metrics_collector, "SOURCES", [broken, metrics_collector._workers])

    values = collected()

    assert values[("csva_metrics_sources_failed", ())] == 1
    assert ("csva_workers_alive", ()) in values


# --- gunicorn's multiprocess hooks -------------------------------------------------------------------------


def _gunicorn_conf(monkeypatch, directory: Path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_conf_starts_with_an_empty_metrics_directory_and_removes_it(monkeypatch, tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"stale")
    conf = _gunicorn_conf(monkeypatch, directory)

    conf.on_starting(server=None)
    assert directory.is_dir()
    assert list(directory.iterdir()) == []
    conf.on_exit(server=None)
    assert not directory.exists()
    assert conf.worker_class == "gthread"


@pytest.mark.slow
def test_gunicorn_workers_add_up_in_the_multiprocess_directory(tmp_path):
    # Two processes increment the same counter; the view's registry must report the sum, and a dead
    # worker's counts must survive child_exit.
    script = f"""
import os, sys
os.environ["PROMETHEUS_MULTIPROC_DIR"] = {str(tmp_path)!r}
os.environ["DJANGO_SECRET_KEY"] = "x"
os.environ["DJANGO_SETTINGS_MODULE"] = "csv_analyzer.settings"
import django
django.setup()
from csv_processor import metrics
from types import SimpleNamespace
import importlib.util
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        metrics.LOGINS.inc()
        os._exit(0)
    os.waitpid(pid, 0)
    pids.append(pid)
spec = importlib.util.spec_from_file_location("conf", "gunicorn.conf.py")
conf = importlib.util.module_from_spec(spec); spec.loader.exec_module(conf)
for pid in pids:
    conf.child_exit(None, SimpleNamespace(pid=pid))
from prometheus_client import generate_latest
from csv_processor.views.metrics import metrics_registry
text = generate_latest(metrics_registry()).decode()
print([line for line in text.splitlines() if line.startswith("csva_logins_total")])
"""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "'csva_logins_total 2.0'" in result.stdout, result.stdout


def test_upload_view_refusals_are_counted(user_client):
    before = sample("csva_upload_failures_total", stage="upload", reason="suffix")

    response = post_upload(user_client, "report.pdf", b"a,b\n1,2\n")

    assert response.status_code == 400
    assert sample("csva_upload_failures_total", stage="upload", reason="suffix") == before + 1


@pytest.mark.parametrize(
    ("body", "how"), [(b"a,b\n" + b"1,2\n" * 30_000, "content-length"), (b"a,b\n" + b"1,2\n" * 400, "streaming")]
)
def test_uploads_over_the_cap_are_counted_whichever_check_stops_them(user_client, settings, body, how):
    settings.UPLOAD_MAX_BYTES = 1000
    before = sample("csva_upload_failures_total", stage="upload", reason="too_large")

    response = post_upload(user_client, "big.csv", body)

    assert response.status_code == 413, how
    assert sample("csva_upload_failures_total", stage="upload", reason="too_large") == before + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("original", "content_type"), [("/datasets/upload/", "text/html"), ("/api/x", "application/json")]
)
def test_the_page_nginx_shows_for_a_body_over_its_limit_is_a_counted_413(client, original, content_type):
    before = sample("csva_upload_failures_total", stage="upload", reason="too_large")

    response = client.get(reverse("csv_processor:upload-too-large"), HTTP_X_ORIGINAL_URI=original)

    assert response.status_code == 413
    assert response["Content-Type"].startswith(content_type)
    assert b"too large" in response.content
    assert sample("csva_upload_failures_total", stage="upload", reason="too_large") == before + 1


def test_an_upload_without_a_file_is_counted(user_client):
    before = sample("csva_upload_failures_total", stage="upload", reason="empty")

    missing = user_client.post(reverse("csv_processor:upload-new"), {})
    empty = post_upload(user_client, "empty.csv", b"")

    assert (missing.status_code, empty.status_code) == (400, 400)
    assert sample("csva_upload_failures_total", stage="upload", reason="empty") == before + 2


def test_confirming_with_invalid_settings_is_counted(user_client):
    post_upload(user_client, "ok.csv", b"a,b\n1,2\n3,4\n")
    upload = Upload.objects.get()
    before = sample("csva_upload_failures_total", stage="confirm", reason="options")

    response = user_client.post(
        reverse("csv_processor:upload-confirm", kwargs={"upload_id": upload.pk}), {"encoding": "not-a-codec"}
    )

    assert response.status_code == 400
    assert sample("csva_upload_failures_total", stage="confirm", reason="options") == before + 1
