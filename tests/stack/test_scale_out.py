"""Web and workers on separate "hosts" sharing only PostgreSQL, an S3 endpoint and MLflow (issue 17).

Run with `make stack-test`; the topology is tests/stack/scale_out.py.
"""

import csv
import io
import re
from pathlib import Path

import pytest
import requests

from tests.stack.harness import wait_until
from tests.stack.journey import CSV
from tests.stack.scale_out import HOSTS

pytestmark = pytest.mark.stack


def test_each_step_is_answered_by_the_host_that_did_not_do_the_one_before(topology, crossing):
    walk, answers = crossing
    weather = list(csv.reader(io.StringIO(CSV.decode())))

    # Parsed by worker 1, shown and downloaded by web 2, which never saw the upload.
    assert "Oslo" in answers["preview"]
    assert list(csv.reader(io.StringIO(answers["download"].decode()))) == weather
    # Trained and batch-predicted by worker 2, deployed and served by web 1.
    batch = list(csv.DictReader(io.StringIO(answers["batch"])))
    assert len(batch) == 25
    assert {row["prediction"] for row in batch} <= {"yes", "no"}, batch[0]
    assert topology.workers_that_ran("upload_ingest_task") == {"worker-1"}
    assert topology.workers_that_ran("training_run_execute_task") == {"worker-2"}
    assert topology.workers_that_ran("batch_prediction_execute_task") == {"worker-2"}
    assert walk.model_url


def test_no_host_keeps_a_stored_file_and_the_bucket_holds_them_all(topology, crossing):
    stored = topology.object_keys("app/")

    assert {host: topology.local_files(host) for host in HOSTS} == {host: [] for host in HOSTS}
    assert [key for key in stored if key.endswith(".parquet")], stored
    assert [key for key in stored if "upload" in key], stored
    # Each host read what it needed through its own read-through cache.
    assert any((topology.host_dir("web-2") / "cache").rglob("*.parquet"))


def test_mlflow_keeps_the_model_in_the_bucket_and_serves_it_through_its_proxy(topology, crossing, tmp_path):
    from mlflow import MlflowClient, artifacts

    walk, _ = crossing
    run_id = int(re.search(r"/runs/(\d+)/", walk.run_urls[0]).group(1))
    query = (
        "SELECT mlflow_run_id, registered_model_name, registered_model_version FROM csv_processor_trainingrun"
        " WHERE id = %s AND tracking_status = 'tracked'"
    )
    tracked = wait_until(lambda: topology.app_rows(query, (run_id,)), timeout=60, what="the run logged to MLflow")
    mlflow_run, name, version = tracked[0]
    uri = f"http://127.0.0.1:{topology.ports.mlflow}"
    client = MlflowClient(tracking_uri=uri)

    # This process has no setting for the bucket's endpoint: the files come through the MLflow server.
    folder = artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(name, version), dst_path=str(tmp_path), tracking_uri=uri
    )

    assert (Path(folder) / "MLmodel").is_file()
    assert client.get_run(mlflow_run).info.artifact_uri.startswith("mlflow-artifacts:")
    assert any(key.endswith("/MLmodel") for key in topology.object_keys("mlflow/"))


def test_either_web_host_is_ready_and_reports_the_store(topology, crossing):
    for host in ("web-1", "web-2"):
        ready = requests.get(f"{topology.host_url(host)}/readyz", timeout=10)
        assert ready.status_code == 200, (host, ready.text)
        assert ready.json()["checks"]["media"] == "ok", ready.json()
