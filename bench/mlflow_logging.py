"""MLflow logging time of one finished Auto run (bar: under 5 s against a tracking server).

Trains one Auto run per dataset (titanic, adult; budget BENCH_BUDGET s) in a throwaway project with
MLflow unreachable, so the run ends "tracking pending"; then times `training_run_track` (the same call
the worker makes after training, with the in-memory pipeline and frame) against each store, REPEATS
times, resetting the run to pending in between. Stores: the local default (`sqlite:///` file) and a real
`mlflow server` on loopback with a SQLite backend (`--workers 1`); BENCH_MLFLOW_PG=postgres://... adds
one with that (empty) PostgreSQL database as backend. The wall time of the main MLflow calls in the
first and the last round are printed too. "median" leaves out the first round of
each store (which also creates tables, the experiment and the registered model). The last line is the
JSON summary.
Run from the project root: .venv/bin/python bench/mlflow_logging.py [titanic,adult]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project root, not bench/, first: bench/profile.py would shadow the standard `profile` module.
sys.path[0] = str(ROOT)

import functools
import importlib
import json
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from contextlib import contextmanager

TMP = Path(tempfile.mkdtemp(prefix="csva-bench-mlflow-"))
os.environ.update(
    {
        "DJANGO_SECRET_KEY": "bench-mlflow",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{TMP / 'db.sqlite3'}",
        "MEDIA_ROOT": str(TMP / "media"),
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "csv_analyzer.settings",
    }
)

import django

django.setup()

import mlflow
from django.conf import settings
from django.core.management import call_command

from csv_processor.models import TrainingRun
from csv_processor.selectors.training.setup import training_frame
from csv_processor.services.datasets.imports import dataset_import_file
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.model_store import trained_model_load
from csv_processor.services.training.runs import TrainingOptions, training_run_create
from csv_processor.services.training.tracking import training_run_track
from users.services import user_create

DATA = ROOT.parent / "shared" / "datasets"
DATASETS = {"titanic": ("titanic_train.csv", "Survived"), "adult": ("adult.data.csv", "income")}
ADULT_HEADER = (
    "age,workclass,fnlwgt,education,education_num,marital_status,occupation,relationship,race,sex,"
    "capital_gain,capital_loss,hours_per_week,native_country,income\n"
)
REPEATS = int(os.environ.get("BENCH_REPEATS", "4"))
BUDGET = int(os.environ.get("BENCH_BUDGET", "20"))
BAR_SECONDS = 5.0
# Calls timed (wall clock, summed per round) by wrapping them: (module[:class], attribute).
WATCH = [
    ("csv_processor.mlflow_utils", "_experiment_id"),
    ("mlflow.tracking.fluent", "start_run"),
    ("mlflow.tracking.fluent", "end_run"),
    ("mlflow.tracking.fluent", "log_params"),
    ("mlflow.tracking.fluent", "log_metrics"),
    ("mlflow.tracking.client:MlflowClient", "create_run"),
    ("mlflow.tracking.client:MlflowClient", "log_batch"),
    ("mlflow.tracking.client:MlflowClient", "set_terminated"),
    ("mlflow.tracking.fluent", "log_input"),
    ("mlflow.data", "from_pandas"),
    ("mlflow.tracking.fluent", "log_dict"),
    ("mlflow.tracking.fluent", "log_text"),
    ("csv_processor.ml.training.figures", "run_figures"),
    ("mlflow.tracking.client:MlflowClient", "log_artifacts"),
    ("csv_processor.mlflow_utils", "_trusted_types"),
    ("csv_processor.mlflow_utils", "infer_signature"),
    ("mlflow.sklearn", "log_model"),
    ("mlflow.sklearn", "save_model"),
    ("mlflow.tracking.client:MlflowClient", "log_model_artifacts"),
    ("mlflow.models.utils", "_validate_serving_input"),
    ("mlflow.tracking._model_registry.fluent", "_register_model"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def mlflow_server(name: str, backend: str) -> tuple[str, subprocess.Popen]:
    port = free_port()
    cmd = [str(ROOT / ".venv/bin/mlflow"), "server", "--backend-store-uri", backend]
    cmd += ["--default-artifact-root", str(TMP / f"{name}-artifacts"), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--workers", "1"]
    log = (TMP / f"{name}.log").open("w")
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}", process
        if process.poll() is not None:
            break
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit(f"mlflow server did not start: see {TMP / name}.log")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def trained_run(owner, name: str) -> TrainingRun:
    file, target = DATASETS[name]
    path = DATA / file
    if name == "adult":
        path = TMP / "adult.csv"
        path.write_text(ADULT_HEADER + (DATA / file).read_text())
    dataset = dataset_import_file(owner=owner, path=path, options=None)
    options = TrainingOptions(target=target, budget_seconds=BUDGET)
    run = training_run_create(owner=owner, version=dataset.current_version, options=options, enqueue=False)
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{free_port()}"  # refused: the run ends pending
    run = training_run_execute(run_id=run.pk)
    if run.status != "succeeded" or run.tracking_status != "pending":
        raise SystemExit(f"run {run.pk}: {run.status}, tracking {run.tracking_status}: {run.error}")
    return run


@contextmanager
def timed_calls(spent: dict[str, float]):
    """Wrap each WATCH call so `spent` sums its wall time; the originals are restored at the end."""
    originals = []
    for module_name, name in WATCH:
        module_path, _, class_name = module_name.partition(":")
        owner = importlib.import_module(module_path)
        owner = getattr(owner, class_name) if class_name else owner
        original = getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, _timer(original, name, spent))
        if owner is mlflow.tracking.fluent and hasattr(mlflow, name):
            originals.append((mlflow, name, getattr(mlflow, name)))
            setattr(mlflow, name, getattr(owner, name))
    try:
        yield
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)


def _timer(function, name: str, spent: dict[str, float]):
    @functools.wraps(function)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

    return timed


def measure(run: TrainingRun, store: str, uri: str) -> dict:
    settings.MLFLOW_TRACKING_URI = uri
    settings.MLFLOW_ARTIFACT_ROOT = (TMP / f"{store}-artifacts").as_uri()
    pipeline = trained_model_load(trained_model=run.trained_model)
    frame, _ = training_frame(version=run.dataset_version)
    seconds, breakdowns = [], []
    for _ in range(REPEATS):
        TrainingRun.objects.filter(pk=run.pk).update(tracking_status="pending", tracking_attempts=0)
        spent: dict[str, float] = {}
        with timed_calls(spent):
            started = time.perf_counter()
            done = training_run_track(run_id=run.pk, pipeline=pipeline, frame=frame)
            seconds.append(time.perf_counter() - started)
        breakdowns.append({name: round(value, 2) for name, value in spent.items()})
        if done.tracking_status != "tracked":
            raise SystemExit(f"{store}: {done.tracking_error}")
    # The first round also pays the store's one-time costs (tables, experiment, registered model).
    warm = statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0]
    return {
        "first": round(seconds[0], 2),
        "median": round(warm, 2),
        "first_round": breakdowns[0],
        "last_round": breakdowns[-1],
    }


def main() -> None:
    names = sys.argv[1].split(",") if len(sys.argv) > 1 else list(DATASETS)
    call_command("migrate", verbosity=0)
    owner = user_create(username="bench", email="bench@example.com", password="bench-pass-123")
    runs = {name: trained_run(owner, name) for name in names}
    stores = {"local-sqlite": f"sqlite:///{TMP / 'mlruns.db'}"}
    backends = {"server-sqlite": f"sqlite:///{TMP / 'server.db'}"}
    if os.environ.get("BENCH_MLFLOW_PG"):
        backends["server-pg"] = os.environ["BENCH_MLFLOW_PG"]
    servers: list[subprocess.Popen] = []
    summary: dict = {}
    try:
        for store, backend in backends.items():
            stores[store], process = mlflow_server(store, backend)
            servers.append(process)
        for name, run in runs.items():
            for store, uri in stores.items():
                result = measure(run, store, uri)
                summary[f"{name}/{store}"] = result
                print(f"{name} ({len(run.trials)} child runs) {store}: {json.dumps(result)}", flush=True)
    finally:
        for process in servers:
            stop(process)
    servers_ok = all(v["median"] < BAR_SECONDS for k, v in summary.items() if "/server" in k)
    print(json.dumps({"bar_seconds": BAR_SECONDS, "pass": servers_ok, "results": summary}))


if __name__ == "__main__":
    main()
