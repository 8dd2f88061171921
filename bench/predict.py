"""Serving latency and throughput: our /predict against in-process predict, /healthz and `mlflow models serve`.

Two models trained through the app (LogisticRegression on iris, HistGradientBoosting on a synthetic
california-like regression table), deployed, and served by gunicorn (`gunicorn.conf.py`, 2 gthread
workers) on loopback. The same registered MLflow models are served by `mlflow models serve
--env-manager local` with as many workers. All servers and the in-process baseline run with one
OpenMP/BLAS thread. Clients keep their connections alive (http.client); measurements alternate
ours/baselines, REPEATS times, and the medians are compared with the bars:

* /predict one-row p50 <= in-process `pipeline.predict` p50 + 1 ms (linear), <= 3x it (trees);
* /predict throughput with 8 connections >= 0.4x /healthz of the same gunicorn;
* ours p50 <= mlflow's p50 and ours requests/s >= mlflow's (the same pipeline, the same rows).

The baseline is the honest `pipeline.predict` on a one-row DataFrame. The server runs the same pipeline
compiled (csv_processor/ml/serving/compiled.py, checked against it at load), so for reference the JSON also
reports `inprocess_serving_p50_ms`: the serving path in process (record checks plus compiled pipeline), and
`overhead_vs_serving_ms`, what HTTP, authentication and logging add to it.

Run from the project root: .venv/bin/python bench/predict.py   (last line: one JSON object)
"""

import functools
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.mkdtemp(prefix="csva-bench-predict-"))
ENV = {
    "DJANGO_SECRET_KEY": "bench-predict",
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    # A throwaway SQLite file by default; BENCH_DATABASE_URL points at another (empty) database to compare.
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{TMP / 'db.sqlite3'}"),
    "MEDIA_ROOT": str(TMP / "media"),
    "MLFLOW_TRACKING_URI": f"sqlite:///{TMP / 'mlruns.db'}",
    "MLFLOW_ARTIFACT_ROOT": (TMP / "mlartifacts").as_uri(),
    "CSVA_API_PREDICT_RATE": "100000000/min",
    "DJANGO_LOG_LEVEL": "WARNING",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "csv_analyzer.settings"

import django

django.setup()

import pandas as pd
from django.core.management import call_command
from threadpoolctl import threadpool_limits

from csv_processor.ml.serving import records_frame
from csv_processor.services.datasets.imports import dataset_import_file
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.serving.runtime import serving_model_get
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.model_store import trained_model_load
from csv_processor.services.training.runs import TrainingOptions, training_run_create
from users.services import api_token_create, user_create

REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
SEQUENTIAL = 300
CONCURRENT_SECONDS = 3.0
CONNECTIONS = 8
WORKERS = "2"
# No worker recycling during a measurement (the config recycles every ~1000 requests), longer keep-alive.
GUNICORN_FLAGS = ["--max-requests", "0", "--keep-alive", "30", *os.environ.get("BENCH_GUNICORN_FLAGS", "").split()]
OURS_PORT, MLFLOW_PORTS = 19431, {"linear": 19432, "trees": 19433}


def free(port: int) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"port {port} is in use")


def datasets() -> dict[str, tuple[pd.DataFrame, str, str]]:
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True).frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    iris["target"] = iris["target"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    rng = np.random.default_rng(0)
    n = 2000
    houses = pd.DataFrame(
        {
            "MedInc": rng.gamma(4, 1, n),
            "HouseAge": rng.integers(1, 52, n),
            "AveRooms": rng.normal(5.4, 1.2, n),
            "AveBedrms": rng.normal(1.1, 0.2, n),
            "Population": rng.integers(3, 5000, n),
            "AveOccup": rng.normal(3, 0.8, n),
            "Latitude": rng.uniform(32.5, 42, n),
            "Longitude": rng.uniform(-124.3, -114.3, n),
        }
    )
    houses["MedHouseVal"] = (0.4 * houses.MedInc + 0.01 * houses.HouseAge - 0.05 * (houses.Latitude - 34) ** 2).round(3)
    return {
        "linear": (iris, "target", "LogisticRegression"),
        "trees": (houses, "MedHouseVal", "HistGradientBoosting"),
    }


def train_and_deploy(owner, name: str, frame: pd.DataFrame, target: str, algorithm: str):
    path = TMP / f"{name}.csv"
    frame.to_csv(path, index=False)
    dataset = dataset_import_file(owner=owner, path=path, options=None)
    options = TrainingOptions(target=target, algorithms=(algorithm,), budget_seconds=10, cv_folds=3)
    run = training_run_create(owner=owner, version=dataset.current_version, options=options)
    run = training_run_execute(run_id=run.pk)
    assert run.status == "succeeded", run.error
    assert run.tracking_status == "tracked", run.tracking_error
    model = deployed_model_deploy(owner=owner, run=run)
    record = frame.drop(columns=[target]).iloc[0].to_dict()
    record = {k: (v.item() if hasattr(v, "item") else v) for k, v in record.items()}
    return run, model, record


def start(cmd: list[str], port: int, log: str, env: dict) -> subprocess.Popen:
    free(port)
    out = (TMP / log).open("w")
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if process.poll() is not None:
            raise SystemExit(f"{cmd[0]} exited: see {TMP / log}")
        time.sleep(0.3)
    raise SystemExit(f"{cmd[0]} did not start: see {TMP / log}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


class Target:
    """One HTTP call repeated on a kept-alive connection."""

    def __init__(self, port: int, method: str, path: str, body: dict | None, headers: dict) -> None:
        self.port, self.method, self.path = port, method, path
        self.body = json.dumps(body).encode() if body is not None else None
        self.headers = {**headers, "Content-Type": "application/json"} if body is not None else headers

    def call(self, connection: http.client.HTTPConnection) -> None:
        try:
            connection.request(self.method, self.path, body=self.body, headers=self.headers)
            response = connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A server may close a kept-alive connection (idle timeout): reconnect once, as clients do.
            connection.close()
            connection.request(self.method, self.path, body=self.body, headers=self.headers)
            response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            raise SystemExit(f"{self.path}: {response.status} {payload[:300]!r}")

    def latency_p50_ms(self, n: int = SEQUENTIAL) -> float:
        connection = http.client.HTTPConnection("127.0.0.1", self.port)
        for _ in range(20):
            self.call(connection)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            self.call(connection)
            times.append(time.perf_counter() - start)
        connection.close()
        return 1000 * statistics.median(times)

    def throughput(self, seconds: float = CONCURRENT_SECONDS, connections: int = CONNECTIONS) -> float:
        counts = [0] * connections
        stop_at = time.monotonic() + seconds

        def client(i: int) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port)
            while time.monotonic() < stop_at:
                self.call(connection)
                counts[i] += 1
            connection.close()

        threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return sum(counts) / (time.monotonic() - start)


def in_process_p50_ms(call, n: int = SEQUENTIAL) -> float:
    with threadpool_limits(1):
        for _ in range(20):
            call()
        times = []
        for _ in range(n):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def serving_path(model, record: dict):
    """What the server runs for one record, in process: the record checks and the (compiled) pipeline."""
    version = model.active_version
    served = serving_model_get(version=version)

    def call() -> None:
        served.predict(records_frame(served.spec, [record]))

    return call


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    call_command("migrate", verbosity=0)
    owner = user_create(username="bench", email="bench@example.com", password="bench-password-42")
    _, token = api_token_create(user=owner, name="bench")
    auth = {"Authorization": f"Token {token}"}
    served = {name: train_and_deploy(owner, name, *spec) for name, spec in datasets().items()}

    env = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{OURS_PORT}",
        "GUNICORN_WORKERS": WORKERS,
        "GUNICORN_THREADS": "4",
    }
    env["PROMETHEUS_MULTIPROC_DIR"] = str(TMP / "prometheus")
    servers = [
        start(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", *GUNICORN_FLAGS, "csv_analyzer.wsgi"],
            OURS_PORT,
            "gunicorn.log",
            env,
        )
    ]
    try:
        for name, (run, _, _) in served.items():
            uri = f"models:/{run.registered_model_name}/{run.registered_model_version}"
            cmd = [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", uri, "--env-manager", "local"]
            cmd += ["-h", "127.0.0.1", "-p", str(MLFLOW_PORTS[name]), "-w", WORKERS]
            # mlflow execs `uvicorn` by name: put the venv's bin first on PATH.
            path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
            servers.append(start(cmd, MLFLOW_PORTS[name], f"mlflow-{name}.log", {**os.environ, "PATH": path}))
        figures = measure(served, auth)
    finally:
        for process in servers:
            stop(process)
    print(json.dumps(figures))
    shutil.rmtree(TMP, ignore_errors=True)


def measure(served: dict, auth: dict) -> dict:
    results: dict[str, dict[str, list[float]]] = {}
    healthz = Target(OURS_PORT, "GET", "/healthz", None, {})
    for name, (run, model, record) in served.items():
        pipeline = trained_model_load(trained_model=run.trained_model)
        row = pd.DataFrame([record])
        serving = serving_path(model, record)
        baseline = functools.partial(pipeline.predict, row)  # the honest baseline: the pipeline on one row
        columns = list(row.columns)
        ours = Target(OURS_PORT, "POST", f"/api/models/{model.pk}/predict", {"records": [record]}, auth)
        split = {"dataframe_split": {"columns": columns, "data": [list(record.values())]}}
        ours_mlflow_protocol = Target(OURS_PORT, "POST", f"/api/models/{model.pk}/invocations", split, auth)
        mlflow = Target(MLFLOW_PORTS[name], "POST", "/invocations", split, {})
        figures = results.setdefault(name, {})
        for _ in range(REPEATS):
            # Alternate ours and the baselines so machine load falls on both alike.
            figures.setdefault("inprocess_p50_ms", []).append(in_process_p50_ms(baseline))
            figures.setdefault("inprocess_serving_p50_ms", []).append(in_process_p50_ms(serving))
            figures.setdefault("ours_p50_ms", []).append(ours.latency_p50_ms())
            figures.setdefault("mlflow_p50_ms", []).append(mlflow.latency_p50_ms())
            figures.setdefault("ours_invocations_p50_ms", []).append(ours_mlflow_protocol.latency_p50_ms())
            figures.setdefault("ours_rps", []).append(ours.throughput())
            figures.setdefault("healthz_rps", []).append(healthz.throughput())
            figures.setdefault("mlflow_rps", []).append(mlflow.throughput())
    return summarise(results)


def summarise(results: dict) -> dict:
    out: dict = {"repeats": REPEATS, "workers": int(WORKERS), "connections": CONNECTIONS}
    passed = True
    for name, figures in results.items():
        med = {key: round(statistics.median(values), 3) for key, values in figures.items()}
        latency_bar = med["inprocess_p50_ms"] + 1.0 if name == "linear" else 3 * med["inprocess_p50_ms"]
        checks = {
            "latency_vs_inprocess": med["ours_p50_ms"] <= latency_bar,
            "throughput_vs_healthz": med["ours_rps"] >= 0.4 * med["healthz_rps"],
            "p50_vs_mlflow": med["ours_p50_ms"] <= med["mlflow_p50_ms"],
            "rps_vs_mlflow": med["ours_rps"] >= med["mlflow_rps"],
        }
        out[name] = {
            **med,
            "latency_bar_ms": round(latency_bar, 3),
            "overhead_ms": round(med["ours_p50_ms"] - med["inprocess_p50_ms"], 3),
            "overhead_vs_serving_ms": round(med["ours_p50_ms"] - med["inprocess_serving_p50_ms"], 3),
            "ratio_p50_vs_inprocess": round(med["ours_p50_ms"] / med["inprocess_p50_ms"], 3),
            "ratio_rps_vs_healthz": round(med["ours_rps"] / med["healthz_rps"], 3),
            "ratio_p50_vs_mlflow": round(med["ours_p50_ms"] / med["mlflow_p50_ms"], 3),
            "ratio_rps_vs_mlflow": round(med["ours_rps"] / med["mlflow_rps"], 3),
            "checks": checks,
        }
        passed = passed and all(checks.values())
    out["pass"] = passed
    return out


if __name__ == "__main__":
    main()
