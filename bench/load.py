"""Load: 50 users for 2 minutes against gunicorn and PostgreSQL, browsing, uploading 5 MB files and predicting.

The issue's bars (issue 8, "Load"): zero responses of 500 or more, p95 page time < 300 ms, p95 one-row
prediction < 200 ms, worker memory stable. Run from the project root:  .venv/bin/python bench/load.py
(locust comes from bench/requirements.txt; the last line printed is one JSON object with "pass").

Set-up: a fresh PostgreSQL database (STACK_POSTGRES, default postgres://postgres@127.0.0.1:5432, dropped at
the end; MLflow's store is a second one), gunicorn with gunicorn.conf.py (2 gthread workers x 4 threads)
and one `db_worker`, started by tests/stack/harness.py. Before the load: the SimpleCleanModel
(`train_clean_model`), 50 accounts in one bulk insert (one password hash), and for each account, through
the app's commands and services, `import_csv` of titanic_train.csv, `train` (LogisticRegression, 5 s
budget), a deployment and an API token.

The load (bench/loadgen/locustfile.py; locust, headless): users arrive two a second and log in through
the form; once all 50 are in, two measured minutes start:
* 40 browsers think 2-6 s between pages: dataset list and page, data-table pages (htmx), profile, run
  list and page, model list and page, the prediction form (GET and POST);
* 8 API clients: one-row POST /api/models/{id}/predict with their token, once a second each;
* 2 uploaders: upload form, 5 MB of nycflights13 rows, the confirm page's preview, confirm, poll the
  status page until the worker has made the dataset, open it, then think 5-10 s.
A probe polls /healthz (a bare Django JSON view) twice a second on the same client in the same run:
the baseline the page and prediction p95s are divided by. gunicorn closes a connection
idle for 5 s, so a client does not reuse a connection idle for 3 s or more (nginx, in production, opens
a new one per request).

"Page time" is every GET of a page or fragment; the log-in POST (password hashing, slow on purpose),
the upload POST (a file up to 5 MiB is parsed in full before the confirm page) and the confirm POST are
reported on their own. Percentiles come from every request's own time (not locust's rounded buckets)
in the measured window; p95s of five equal sub-windows show the spread. Errors count over the whole run.

Memory: the RSS of the gunicorn workers (summed) and of the db_worker is sampled every 2 s; memory is
stable when the median of the window's last third is at most 10% above that of its first third.
gunicorn's worker recycling (max_requests) is off for the run, so a leak cannot hide behind a restart.
The CPU seconds the server processes used and the machine's load average are reported too: the machine
is shared, and they tell a slow app from a busy machine.
"""

import io
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stderr
from pathlib import Path

import pandas as pd
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen.figures import ProcessSampler, latency_figures, measured_window, process_figures, summarise
from tests.stack.harness import BIN, Ports, Stack, wait_until

DATASETS = ROOT.parent / "shared" / "datasets"
TITANIC = DATASETS / "titanic_train.csv"
SETUP_PROCESSES = 3
MIX = {
    "browsers": 40,
    "api_clients": 8,
    "uploaders": 2,
    "browse_think_seconds": [2, 6],
    "api_pacing_seconds": 1.0,
    "upload_think_seconds": [5, 10],
}
USERS = MIX["browsers"] + MIX["api_clients"] + MIX["uploaders"]
# Fewer accounts (shared by several users) only to try the benchmark itself quickly.
ACCOUNTS = int(os.environ.get("BENCH_LOAD_ACCOUNTS", str(USERS)))
DURATION_SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "120"))
# Users arrive two a second: a log-in hashes the password (PBKDF2), ~0.5 s of CPU by design.
SPAWN_RATE = 2
RAMP_LIMIT_SECONDS = 180
UPLOAD_BYTES = 5_000_000
PASSWORD = "load-test-password-42"


class LoadStack(Stack):
    """The web app and its task worker on a fresh PostgreSQL database: the parts of the stack under load."""

    def prepare(self) -> dict[str, str]:
        self.logs.mkdir(parents=True, exist_ok=True)
        app_db, mlflow_db = self._create_databases()
        env = self._app_env(app_db)
        # The stack test's quick timers (drift every 5 s, heartbeats every second) would add work that
        # production does not do; the load runs with the app's defaults and the config's 4 threads.
        for key in ("CSVA_DRIFT_INTERVAL_SECONDS", "CSVA_WORKER_HEARTBEAT_SECONDS", "CSVA_WORKER_STALE_SECONDS"):
            env.pop(key, None)
        env.pop("GUNICORN_THREADS", None)
        # MLflow's store is a database of its own, used directly (no tracking server is under test).
        env["MLFLOW_TRACKING_URI"] = mlflow_db
        env["MLFLOW_ARTIFACT_ROOT"] = (self.workdir / "mlflow-artifacts").as_uri()
        self._run("migrate", [sys.executable, "manage.py", "migrate", "--no-input"], env)
        self._run("collectstatic", [sys.executable, "manage.py", "collectstatic", "--no-input"], env)
        return env

    def serve(self, env: dict[str, str]) -> None:
        """Start gunicorn and the worker on ports picked now: set-up takes minutes, and other stacks on the
        machine pick from the same range, so ports picked at the start may be theirs by now."""
        self.ports = Ports.pick()
        web = self.ports.web
        env = {**env, "GUNICORN_BIND": f"127.0.0.1:{web}", "CSVA_WORKER_METRICS_PORT": str(self.ports.worker_metrics)}
        web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics-multiproc")}
        gunicorn = [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--max-requests", "0"]
        self.spawn("web", [*gunicorn, "csv_analyzer.wsgi"], web_env)
        self.spawn("worker", [sys.executable, "manage.py", "db_worker", "--no-reload"], env)
        # Ours must hold the port before /readyz is asked: another server may have taken it in between.
        listening = f"Listening at: http://127.0.0.1:{web}"
        wait_until(lambda: listening in (self.logs / "web.log").read_text(), timeout=60, what="gunicorn bound")
        wait_until(lambda: requests.get(f"{self.web_url}/readyz", timeout=5).ok, timeout=120, what="/readyz")
        if self.processes["web"].poll() is not None or self.processes["worker"].poll() is not None:
            raise SystemExit(f"gunicorn or the worker exited: see {self.logs}")


# --- set-up through the app's commands and services ---------------------------------------------------


def accounts_create(count: int) -> list:
    """`count` accounts in one insert: hashing the same password once keeps set-up in seconds."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    names = [f"load{number:02d}" for number in range(count)]
    user_model.objects.bulk_create(
        [user_model(username=name, email=f"{name}@example.com", password=hashed) for name in names]
    )
    return list(user_model.objects.filter(username__in=names).order_by("username"))


def account_plan(user_id: int) -> dict:
    """One account's dataset, trained run, deployed model and token, made as a user of the commands would."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from csv_processor.models import TrainingRun
    from csv_processor.services.serving.deploy import deployed_model_deploy
    from users.services import api_token_create

    user = get_user_model().objects.get(pk=user_id)
    out = io.StringIO()
    with redirect_stderr(io.StringIO()):  # the commands' progress bars
        call_command("import_csv", str(TITANIC), owner=user.username, stdout=out)
        dataset_id = json.loads(out.getvalue().strip().splitlines()[-1])["dataset_id"]
        out = io.StringIO()
        training = ["--target", "Survived", "--owner", user.username, "--budget", "5", "--cv-folds", "3"]
        call_command("train", str(dataset_id), *training, "--algorithms", "LogisticRegression", stdout=out)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    run = TrainingRun.objects.get(pk=summary["run_id"])
    model = deployed_model_deploy(owner=user, run=run)
    _, token = api_token_create(user=user, name="load")
    row = pd.read_csv(TITANIC).drop(columns=["Survived"]).iloc[user_id % 891]
    return {
        "username": user.username,
        "dataset_id": dataset_id,
        "run_id": run.pk,
        "model_id": model.pk,
        "token": token,
        "record": {key: None if pd.isna(value) else _plain(value) for key, value in row.items()},
        "columns": ["Age", "Fare", "Name", "Pclass", "Ticket"],
    }


def _plain(value: object) -> object:
    """A numpy scalar as the Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


def _setup_process() -> None:
    import django

    django.setup()


def accounts_plan(user_ids: list[int]) -> list[dict]:
    """Set the accounts up SETUP_PROCESSES at a time (training is time-boxed, so waiting overlaps).

    The first runs alone: it makes MLflow's tables, which parallel first uses would race to create.
    Fresh (spawned) processes, not forks: no database connection or thread pool is shared.
    """
    from django.db import connections

    first = account_plan(user_ids[0])
    connections.close_all()
    context = multiprocessing.get_context("spawn")
    with context.Pool(SETUP_PROCESSES, initializer=_setup_process) as pool:
        return [first, *pool.map(account_plan, user_ids[1:], chunksize=1)]


def upload_file_write(target: Path) -> Path:
    """The first 5 MB of nycflights13 rows, cut at a line end: a real export, as users upload them."""
    with (DATASETS / "nycflights13_flights.csv").open("rb") as source:
        head = source.read(UPLOAD_BYTES)
    target.write_bytes(head[: head.rindex(b"\n") + 1])
    return target


def plan_write(workdir: Path) -> Path:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("train_clean_model", "--if-missing", stdout=io.StringIO())
    started = time.monotonic()
    accounts = accounts_plan([user.pk for user in accounts_create(ACCOUNTS)])
    print(
        f"set-up: {ACCOUNTS} accounts with a trained, deployed model in {time.monotonic() - started:.0f} s", flush=True
    )
    plan = {
        "password": PASSWORD,
        "accounts": accounts,
        "mix": MIX,
        "seconds": DURATION_SECONDS,
        "spawn_rate": SPAWN_RATE,
        "ramp_limit_seconds": RAMP_LIMIT_SECONDS,
        "upload_file": str(upload_file_write(workdir / "flights-5mb.csv")),
    }
    path = workdir / "plan.json"
    path.write_text(json.dumps(plan))
    return path


# --- measuring ----------------------------------------------------------------------------------------


def locust_run(stack: LoadStack, plan: Path, env: dict[str, str]) -> list:
    """Run the users of bench/loadgen/locustfile.py headless until its shape stops them; their samples."""
    samples = stack.workdir / "samples.json"
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "loadgen" / "locustfile.py")]
    command += ["--headless", "--host", stack.web_url, "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING"]
    locust_env = {**env, "LOAD_PLAN": str(plan), "LOAD_SAMPLES": str(samples)}
    limit = RAMP_LIMIT_SECONDS + DURATION_SECONDS + 120
    with (stack.logs / "locust.log").open("wb") as log:
        subprocess.run(command, cwd=ROOT, env=locust_env, stdout=log, stderr=subprocess.STDOUT, timeout=limit)
    if not samples.exists():
        raise SystemExit(f"locust wrote no samples: see {stack.logs / 'locust.log'}")
    return json.loads(samples.read_text())


def measure(stack: LoadStack, plan: Path, env: dict[str, str]) -> dict:
    sampler = ProcessSampler(stack.processes["web"].pid, stack.processes["worker"].pid)
    sampler.start()
    try:
        samples = locust_run(stack, plan, env)
    finally:
        sampler.done.set()
        sampler.join()
    window = measured_window(samples, DURATION_SECONDS)
    latency = latency_figures(samples, window)
    context = {"users": USERS, "accounts": ACCOUNTS, "seconds": DURATION_SECONDS, "mix": MIX, "gunicorn_workers": 2}
    return summarise(latency, process_figures(sampler.samples, window, latency["requests"]), context)


def workdir_clear(workdir: Path, *, keep_logs: bool) -> None:
    """Remove the run's folder; after a failure keep its logs and samples. Media and MLflow files run to
    hundreds of MB (every upload stays), so they never outlive the run."""
    keep = {"logs", "samples.json"} if keep_logs else set()
    for path in workdir.iterdir():
        if path.name in keep:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    if keep_logs:
        print(f"logs kept in {workdir / 'logs'}", flush=True)
    else:
        workdir.rmdir()


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(f"stopped by signal {signum}")


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    workdir = Path(tempfile.mkdtemp(prefix="csva-bench-load-"))
    stack = LoadStack(workdir=workdir)
    result = None
    try:
        env = stack.prepare()
        os.environ.update(env)
        plan = plan_write(workdir)
        stack.serve(env)
        result = measure(stack, plan, env)
    finally:
        stack.stop()
        workdir_clear(workdir, keep_logs=result is None or not result["pass"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
