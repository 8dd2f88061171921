"""The production topology on loopback: a user's journey through nginx, then what operators rely on.

Run with `make stack-test` (needs PostgreSQL at STACK_POSTGRES, Debian's nginx and prometheus).
"""

import json
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.stack.harness import ROOT, dashboard_expression, wait_until

pytestmark = pytest.mark.stack

DASHBOARD = json.loads((ROOT / "grafana" / "dashboards" / "csv_analyzer.json").read_text())
RATE_WINDOW = "2m"
# Panels whose metrics no code emits yet, with what makes them emit. Each must return no data: when one
# starts returning data, move it out of here so it is asserted like the rest.
PENDING_PANELS: dict[str, str] = {}


def panels() -> list[dict]:
    return [panel for panel in DASHBOARD["panels"] if panel["type"] != "row"]


def returns_numbers(stack, panel: dict) -> bool:
    """Every query of the panel answers at least one series with a finite number."""
    for target in panel["targets"]:
        values = [float(item["value"][1]) for item in stack.query(dashboard_expression(target["expr"], RATE_WINDOW))]
        if not any(math.isfinite(value) for value in values):
            return False
    return True


def test_the_journey_works_through_nginx(journey):
    assert len(journey.dataset_urls) == 3
    assert journey.model_url
    assert len(journey.prediction_ids) == 40


def test_mlflow_holds_each_run_with_its_metrics_logged_model_and_registered_version(stack, journey, tmp_path):
    from mlflow import MlflowClient, artifacts

    uri = f"http://127.0.0.1:{stack.ports.mlflow}"
    ids = [int(re.search(r"/runs/(\d+)/", url).group(1)) for url in journey.run_urls]
    query = (
        "SELECT mlflow_run_id, registered_model_name, registered_model_version FROM csv_processor_trainingrun"
        " WHERE id = ANY(%s) AND tracking_status = 'tracked'"
    )
    tracked = wait_until(
        lambda: (lambda rows: rows if len(rows) == len(ids) else None)(stack.app_rows(query, (ids,))),
        timeout=60,
        what="both runs logged to MLflow",
    )
    client = MlflowClient(tracking_uri=uri)

    for run_id, name, version in tracked:
        run = client.get_run(run_id)
        registered = client.get_model_version(name, version)
        logged = client.search_logged_models(
            experiment_ids=[run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
        )
        folder = artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(name, version),
            dst_path=str(tmp_path / run_id),
            tracking_uri=uri,
        )

        assert run.info.status == "FINISHED"
        assert "test_accuracy" in run.data.metrics, run.data.metrics
        assert registered.run_id == run_id
        assert registered.status == "READY"
        assert [model.name for model in logged] == ["model"]
        # Through the server's artifact proxy (--serve-artifacts), as the app and users fetch models.
        assert (Path(folder) / "MLmodel").is_file()


def test_metrics_are_never_served_through_nginx_and_want_the_token_directly(stack, journey):
    for path in ("/metrics", "/metrics/", "/%6Detrics", "//metrics"):
        response = requests.get(stack.url + path, timeout=10)
        assert response.status_code == 404, path
        assert "csva_" not in response.text, path

    anonymous = requests.get(f"{stack.web_url}/metrics", timeout=10)
    with_token = requests.get(
        f"{stack.web_url}/metrics", headers={"Authorization": f"Bearer {stack.token}"}, timeout=10
    )
    worker = requests.get(f"http://127.0.0.1:{stack.ports.worker_metrics}/metrics", timeout=10)

    assert anonymous.status_code == 404
    assert with_token.status_code == 200
    assert "csva_workers_alive 1.0" in with_token.text
    assert 'csva_tasks_finished_total{status="successful",task="upload_ingest_task"} 3.0' in worker.text
    # Started at 0, so the first failure is an increase the training-failure alert can see.
    assert 'csva_training_runs_total{algorithm="auto",problem_type="classification",status="failed"} 0.0' in worker.text


def test_nginx_serves_static_files_itself(stack):
    response = requests.get(f"{stack.url}/static/css/app.css", timeout=10)

    assert response.status_code == 200
    assert response.headers["Server"].startswith("nginx")
    assert "Cache-Control" in response.headers


def test_prometheus_scrapes_every_target(stack, journey):
    def all_up():
        targets = requests.get(f"{stack.prometheus_url}/api/v1/targets", timeout=10).json()["data"]["activeTargets"]
        return {target["labels"]["job"]: target["health"] for target in targets}

    health = wait_until(
        lambda: (lambda h: h if set(h.values()) == {"up"} else None)(all_up()), timeout=30, what="every target up"
    )

    assert set(health) == {"csv_analyzer_web", "csv_analyzer_worker", "prometheus"}


def test_event_counters_add_up_across_gunicorn_workers(stack, journey):
    before = stack.scalar('sum(django_http_requests_total_by_view_transport_method_total{view="healthz"})') or 0.0
    # New connections each, in parallel, so both gunicorn worker processes take some.
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(
            pool.map(
                lambda _: (
                    requests.get(f"{stack.web_url}/healthz", headers={"Connection": "close"}, timeout=10).status_code
                ),
                range(24),
            )
        )
    assert codes == [200] * 24

    expected = {
        'sum(django_http_requests_total_by_view_transport_method_total{view="healthz"})': before + 24,
        "sum(csva_signups_total)": 1,
        "sum(csva_logins_total)": 2,
        "sum(csva_login_failures_total)": 1,
        "sum(csva_uploads_total)": 3,
        'sum(csva_upload_failures_total{stage="upload", reason="suffix"})': 1,
        # Refused by nginx for its announced size; the app drew (and counted) the page.
        'sum(csva_upload_failures_total{stage="upload", reason="too_large"})': 1,
        "max(csva_datasets)": 3,
        'sum(csva_predictions_total{channel="form"})': 2,
        'sum(csva_predictions_total{channel="api"})': 2,
        'sum(csva_prediction_rows_total{channel="api"})': 40,
        'sum(csva_training_runs_total{status="succeeded"})': 2,
        'sum(csva_cleaning_operations_total{operation="trim_whitespace"})': 1,
    }

    def mismatches():
        return {expr: (stack.scalar(expr), value) for expr, value in expected.items() if stack.scalar(expr) != value}

    deadline = time.monotonic() + 20
    while (wrong := mismatches()) and time.monotonic() < deadline:
        time.sleep(1)
    assert not wrong, f"(got, expected): {wrong}"
    pids = {path.stem.rsplit("_", 1)[-1] for path in (stack.workdir / "metrics-multiproc").glob("counter_*.db")}
    assert len(pids) >= 2, f"only gunicorn processes {pids} wrote metrics"


def test_every_dashboard_panel_returns_data_or_is_listed_as_pending(stack, journey):
    titles = {panel["title"] for panel in panels()}
    assert set(PENDING_PANELS) <= titles, f"pending panels not on the dashboard: {set(PENDING_PANELS) - titles}"
    asserted = [panel for panel in panels() if panel["title"] not in PENDING_PANELS]

    def empty_panels():
        return [panel["title"] for panel in asserted if not returns_numbers(stack, panel)]

    missing: list[str] = empty_panels()
    deadline = time.monotonic() + 30
    while missing and time.monotonic() < deadline:
        time.sleep(1)
        missing = empty_panels()
    started_emitting = [
        panel["title"]
        for panel in panels()
        if panel["title"] in PENDING_PANELS
        and any(stack.query(dashboard_expression(t["expr"], RATE_WINDOW)) for t in panel["targets"])
    ]

    assert not missing, f"panels without data: {missing}"
    assert not started_emitting, f"pending panels now return data, assert them: {started_emitting}"


def test_the_alert_rules_are_loaded(stack):
    groups = requests.get(f"{stack.prometheus_url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    rules = {rule["name"]: rule for group in groups for rule in group["rules"]}

    assert {name for name, rule in rules.items() if rule["type"] == "alerting"} == {
        "CsvAnalyzerTargetDown",
        "CsvAnalyzerHigh5xxRatio",
        "CsvAnalyzerSlowRequests",
        "CsvAnalyzerTrainingFailures",
        "CsvAnalyzerQueueBacklog",
        "CsvAnalyzerWorkerHeartbeatMissing",
        "CsvAnalyzerMetricsSourcesFailing",
        "CsvAnalyzerModelDrift",
    }
    assert all(rule["health"] == "ok" for rule in rules.values()), {n: r.get("lastError") for n, r in rules.items()}
    # Nothing fires on a healthy stack. Some may be pending: a busy machine makes requests slow, and live
    # rows drawn at random drift a little; those rules wait 10 and 30 minutes.
    firing = [name for name, rule in rules.items() if rule["state"] == "firing"]
    assert not firing, firing


def firing_alerts(stack) -> set[str]:
    alerts = requests.get(f"{stack.prometheus_url}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    return {alert["labels"]["alertname"] for alert in alerts if alert["state"] == "firing"}


def wait_for_alert(stack, name: str, *, timeout: float) -> set[str]:
    return wait_until(
        lambda: (lambda names: names if name in names else None)(firing_alerts(stack)),
        timeout=timeout,
        what=f"{name} firing",
        interval=1,
    )


def test_a_stopped_worker_and_failing_training_runs_fire_their_alerts(stack, journey):
    # Last: it stops and restarts the worker. Both rules wait 2 s here (harness.STACK_ALERT_FOR).
    journey.upload_the_training_data()
    doomed = journey.dataset_urls[-1]
    stack.stop_process("worker")

    fired = wait_for_alert(stack, "CsvAnalyzerWorkerHeartbeatMissing", timeout=30)
    ready = requests.get(f"{stack.url}/readyz", timeout=10)
    assert "CsvAnalyzerTargetDown" in fired | firing_alerts(stack) or stack.scalar('up{job="csv_analyzer_worker"}') == 0
    assert ready.status_code == 503
    assert ready.json()["checks"]["worker"] != "ok"

    # Three runs queued while no worker runs; their data file goes, as when the media volume is lost or
    # restored without it. With the journey's two successes, 3 of 5 runs fail: above the rule's 25%.
    runs = [journey.start_training(doomed, "DecisionTree") for _ in range(3)]
    dataset_id = int(re.search(r"/datasets/(\d+)/", doomed).group(1))
    files = stack.app_rows("SELECT file FROM csv_processor_datasetversion WHERE dataset_id = %s", (dataset_id,))
    assert files
    for (name,) in files:
        (stack.workdir / "media" / name).unlink()
    stack.start_worker()

    def failed_pages():
        pages = [journey.session.get(run, timeout=30).text for run in runs]
        return pages if all("Training failed." in page for page in pages) else None

    pages = wait_until(failed_pages, timeout=60, what="the runs without data failed", interval=1)
    wait_for_alert(stack, "CsvAnalyzerTrainingFailures", timeout=30)
    assert all("data file is missing" in page for page in pages)
    wait_until(lambda: requests.get(f"{stack.url}/readyz", timeout=10).ok, timeout=30, what="ready with a worker again")
