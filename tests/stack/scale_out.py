"""Two web hosts and two worker hosts that share only PostgreSQL, an S3 endpoint and MLflow (issue 17).

Each "host" is a process with its own empty folder (MEDIA_ROOT and its read-through cache): nothing of one is
seen by another, as on separate machines. The S3 endpoint is STACK_S3_ENDPOINT when set (`.ci/run` starts
moto's server and sets it), else a moto server the topology starts itself. MLflow keeps its artifacts in the
same bucket and proxies them, so only the MLflow server holds its own S3 settings. See docs/operations.md,
"Scale beyond one machine".
"""

import contextlib
import os
import re
import secrets
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import boto3
import requests

from tests.stack.harness import BIN, Stack, free_port, wait_until
from tests.stack.journey import Journey, as_csv, path_of, training_rows

S3_KEY, S3_SECRET, S3_REGION = "testing", "testing", "us-east-1"
HOSTS = ("web-1", "web-2", "worker-1", "worker-2")


@dataclass
class ScaleOut(Stack):
    label: str = "scale_out"
    s3_endpoint: str = ""
    web_ports: dict[str, int] = field(default_factory=dict)
    s3_port: int = 0
    # Its own bucket: a shared endpoint (STACK_S3_ENDPOINT) may hold an earlier run's.
    bucket_name: str = field(default_factory=lambda: f"csva-scale-out-{secrets.token_hex(4)}")

    def host_dir(self, host: str) -> Path:
        return self.workdir / "hosts" / host

    def host_url(self, host: str) -> str:
        return f"http://127.0.0.1:{self.web_ports[host]}"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        app_db, mlflow_db = self._create_databases()
        self.s3_endpoint = os.environ.get("STACK_S3_ENDPOINT") or self._start_s3()
        self.bucket().create_bucket(Bucket=self.bucket_name)
        store = {"AWS_ACCESS_KEY_ID": S3_KEY, "AWS_SECRET_ACCESS_KEY": S3_SECRET, "AWS_DEFAULT_REGION": S3_REGION}
        self._start_mlflow(
            mlflow_db,
            artifacts=f"s3://{self.bucket_name}/mlflow",
            store_env={**store, "MLFLOW_S3_ENDPOINT_URL": self.s3_endpoint},
        )
        self.app_env = {
            **self._app_env(app_db),
            **store,
            "CSVA_STORAGE_URL": f"s3://{self.bucket_name}/app",
            "AWS_S3_ENDPOINT_URL": self.s3_endpoint,
            "AWS_S3_REGION_NAME": S3_REGION,
            # Straight to each web process, no proxy in front; several workers: no metrics port.
            "DJANGO_TRUSTED_PROXY_COUNT": "0",
            "CSVA_WORKER_METRICS_PORT": "",
            "CSVA_DRIFT_INTERVAL_SECONDS": "3600",
        }
        self._run("collectstatic", [sys.executable, "manage.py", "collectstatic", "--no-input"], self.app_env)
        self._run("migrate", [sys.executable, "manage.py", "migrate", "--no-input"], self.host_env("migrate"))
        port = self.ports.prometheus
        for host in ("web-1", "web-2"):
            port = self.web_ports[host] = free_port(port + 1)
            env = {**self.host_env(host), "GUNICORN_BIND": f"127.0.0.1:{port}"}
            env["PROMETHEUS_MULTIPROC_DIR"] = str(self.host_dir(host) / "metrics")
            Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir()
            self.spawn(host, [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "csv_analyzer.wsgi"], env)
        for host in ("worker-1", "worker-2"):
            command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--interval", "0.2"]
            self.spawn(host, [*command, "--worker-id", host], self.host_env(host))
        for host in ("web-1", "web-2"):
            wait_until(lambda h=host: requests.get(f"{self.host_url(h)}/readyz", timeout=5).ok, timeout=90, what=host)
        health = f"http://127.0.0.1:{self.ports.mlflow}/health"
        wait_until(lambda: requests.get(health, timeout=5).ok, timeout=120, what="MLflow /health")

    def host_env(self, host: str) -> dict[str, str]:
        """The app's environment on `host`: its own empty media folder and read-through cache."""
        media, cache = self.host_dir(host) / "media", self.host_dir(host) / "cache"
        media.mkdir(parents=True)
        cache.mkdir()
        return {**self.app_env, "MEDIA_ROOT": str(media), "CSVA_STORAGE_CACHE_DIR": str(cache)}

    def _start_s3(self) -> str:
        port = free_port(self.ports.prometheus + 20)
        self.spawn("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], dict(os.environ))
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1), timeout=30, what="moto_server")
        self.s3_port = port
        return f"http://127.0.0.1:{port}"

    def bucket(self):
        return boto3.client(
            "s3",
            endpoint_url=self.s3_endpoint,
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        )

    def object_keys(self, prefix: str) -> list[str]:
        pages = self.bucket().get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def local_files(self, host: str) -> list[Path]:
        """Files the host keeps in its media folder: none, when everything stored is in the bucket."""
        return [path for path in (self.host_dir(host) / "media").rglob("*") if path.is_file()]

    def pause(self, host: str) -> None:
        """Freeze a worker (SIGSTOP): it claims nothing until `resume`, so the other one runs the next task."""
        os.killpg(self.processes[host].pid, signal.SIGSTOP)

    def resume(self, host: str) -> None:
        os.killpg(self.processes[host].pid, signal.SIGCONT)

    def stop(self) -> None:
        for host in ("worker-1", "worker-2"):
            if host in self.processes:
                with contextlib.suppress(ProcessLookupError):
                    self.resume(host)
        super().stop()

    def ports_still_listening(self) -> list[int]:
        listening = super().ports_still_listening()
        for port in [*self.web_ports.values(), self.s3_port]:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    listening.append(port)
        return listening

    def workers_that_ran(self, task: str) -> set[str]:
        """The workers that ran `task` (a function of csv_processor/tasks.py), every time it ran."""
        rows = self.app_rows(
            "SELECT worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path = %s AND status = 'SUCCESSFUL'",
            (f"csv_processor.tasks.{task}",),
        )
        return {worker for (workers,) in rows for worker in workers}


@dataclass
class ScaleOutJourney(Journey):
    """The whole journey across hosts: each step says which web host it is on; `ScaleOut.pause` picks the
    worker that takes the next task."""

    batch_url: str = ""

    def on(self, base_url: str) -> "ScaleOutJourney":
        """Go on from another web host, with the same session (cookies are per host name, not per port)."""
        self.base_url = base_url
        self.session.headers["Origin"] = base_url
        self.dataset_urls = [urljoin(base_url, path_of(url)) for url in self.dataset_urls]
        self.run_urls = [urljoin(base_url, path_of(url)) for url in self.run_urls]
        if self.model_url:
            self.model_url = urljoin(base_url, path_of(self.model_url))
        return self

    def dataset_id(self, index: int) -> int:
        return int(re.search(r"/datasets/(\d+)/", self.dataset_urls[index]).group(1))

    def download_the_weather(self) -> bytes:
        response = self.session.get(urljoin(self.dataset_urls[0], "v/1/download.csv"), timeout=30)
        assert response.status_code == 200, response.status_code
        return response.content

    def preview_the_weather(self) -> str:
        page = self.session.get(self.dataset_urls[0], timeout=30)
        assert page.status_code == 200, page.status_code
        return page.text

    def train_on_the_training_data(self) -> None:
        self._train("DecisionTree")

    def predict_a_batch(self) -> None:
        rows = [{k: v for k, v in row.items() if k != "label"} for row in training_rows(25, seed=3)]
        response = self._submit(
            self.model_url,
            files={"file": ("batch.csv", as_csv(rows), "text/csv")},
            form=f"{path_of(self.model_url)}batches/",
        )
        assert re.search(r"/batches/\d+/$", response.url), (response.status_code, response.url)
        self.batch_url = response.url

    def batch_id(self) -> int:
        return int(re.search(r"/batches/(\d+)/", self.batch_url).group(1))

    def download_the_batch(self) -> str:
        download = urljoin(self.base_url, path_of(self.batch_url) + "download.csv")

        def ready():
            response = self.session.get(download, timeout=30, allow_redirects=False)
            return response if response.status_code == 200 else None

        return wait_until(ready, timeout=120, what="the batch's predictions", interval=0.5).text


def await_idle(topology: ScaleOut) -> None:
    """Wait until no task is running or due: a worker paused now holds nothing another must wait for."""
    due = (
        "SELECT count(*) FROM django_tasks_database_dbtaskresult"
        " WHERE status = 'RUNNING' OR (status = 'READY' AND run_after <= now())"
    )
    wait_until(lambda: topology.app_rows(due)[0][0] == 0, timeout=120, what="no task running or due", interval=0.2)
