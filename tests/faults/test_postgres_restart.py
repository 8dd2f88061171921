"""PostgreSQL restarted (`pg_ctl restart -m fast`) while users browse and apply cleaning steps.

The app (nginx in front of gunicorn, 2 processes x 2 threads, and a task worker) runs against a private cluster started
for this test, never the machine's. Errors are allowed only while the database is down; every request
started after it is back must succeed, and no cleaning step may be left half-applied.
"""

import contextlib
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import psycopg2
import pytest
import requests

from tests.faults.conftest import WORKER_COMMAND
from tests.faults.postgres import PrivatePostgres
from tests.stack.harness import BIN, wait_until
from tests.stack.journey import CSV, Journey, path_of

pytestmark = pytest.mark.faults

BROWSERS = 3
# Two fast restarts, and one with the database away for 2 s, long enough for every process to notice.
RESTARTS = (0, 2, 0)
WARM_UP_SECONDS = 3
BETWEEN_SECONDS = 3
AFTER_SECONDS = 6
PAGES = ("/", "/datasets/", "{dataset}", "{dataset}clean/")


@pytest.fixture
def cluster():
    running = PrivatePostgres.create()
    try:
        running.start()
        yield running
    finally:
        running.stop()


@dataclass
class Traffic:
    """Requests from several threads, each recorded as (started, finished, status or error)."""

    journey: Journey
    records: list[tuple[float, float, str, int | str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _record(self, what: str, call) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = call()
        except (requests.RequestException, AssertionError) as exc:
            # AssertionError: the journey's form page did not load.
            outcome, response = f"{type(exc).__name__}: {exc}", None
        else:
            outcome = response.status_code
        with self.lock:
            self.records.append((started, time.monotonic(), what, outcome))
        return response

    def browse(self) -> None:
        session = requests.Session()
        session.cookies.update(self.journey.session.cookies)
        dataset = path_of(self.journey.dataset_urls[0])
        while not self.stop.is_set():
            for page in PAGES:
                url = urljoin(self.journey.base_url, page.format(dataset=dataset))
                self._record(f"GET {page}", lambda url=url: session.get(url, timeout=30))

    def clean(self) -> None:
        cases = ("upper", "lower")
        index = 0
        while not self.stop.is_set():
            case = cases[index % 2]
            self._record(f"apply change_case {case}", lambda case=case: self._apply(case))
            index += 1

    def _apply(self, case: str) -> requests.Response:
        dataset = self.journey.dataset_urls[0]
        response = self.journey._submit(
            urljoin(dataset, f"clean/?op=change_case&column=city&case={case}"), form=f"{path_of(dataset)}clean/apply/"
        )
        if response.ok and "/clean/" in response.url:
            # The form came back: the step was refused, which is no success either.
            response.status_code = 400
        return response


def _app(rig, cluster) -> Path:
    media = rig.workdir / "media"
    env = rig.env(cluster.create_database("csva_faults"), media, MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    rig._run("migrate", [sys.executable, "manage.py", "migrate", "--no-input"], env)
    web_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(rig.workdir / "metrics-multiproc")}
    rig.spawn("web", [str(BIN / "gunicorn"), "--config", "gunicorn.conf.py", "csv_analyzer.wsgi"], web_env)
    rig.spawn("worker", WORKER_COMMAND, env)
    # Browsers reach gunicorn through nginx, as in production: a client talking to gunicorn directly with
    # kept-alive connections sees one reset each time a worker recycles (max_requests), a fault of its own.
    rig.start_nginx(env)
    wait_until(lambda: requests.get(f"{rig.url}/readyz", timeout=5).ok, timeout=120, what="/readyz via nginx")
    return media


def _rows(cluster, sql: str) -> list[tuple]:
    with contextlib.closing(psycopg2.connect(cluster.url("csva_faults"))) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _restarts_under(traffic: Traffic, cluster) -> list[tuple[float, float]]:
    """Restart the database while the traffic runs; return when it was away (start, end) each time."""
    threads = [threading.Thread(target=traffic.browse) for _ in range(BROWSERS)]
    threads.append(threading.Thread(target=traffic.clean))
    for thread in threads:
        thread.start()
    windows = []
    try:
        for pause, down_seconds in zip((WARM_UP_SECONDS, *[BETWEEN_SECONDS] * 2), RESTARTS, strict=True):
            time.sleep(pause)
            down_at = time.monotonic()
            cluster.restart(down_seconds=down_seconds)
            windows.append((down_at, time.monotonic()))
        time.sleep(AFTER_SECONDS)
    finally:
        traffic.stop.set()
        for thread in threads:
            thread.join(timeout=60)
    return windows


def _failed(record) -> bool:
    return isinstance(record[3], str) or record[3] >= 500


def test_postgres_restart_during_traffic_errors_only_while_down_and_leaves_no_half_applied_step(rig, cluster):
    media = _app(rig, cluster)
    journey = Journey(base_url=rig.url, username="faults")
    journey.session.headers["Origin"] = rig.url
    journey.sign_up()
    journey._upload("weather.csv", CSV)

    traffic = Traffic(journey)
    windows = _restarts_under(traffic, cluster)

    failed = [r for r in traffic.records if _failed(r)]
    outside = [r for r in failed if not any(r[0] <= up and r[1] >= down for down, up in windows)]
    longest = max(up - down for down, up in windows)
    report = f"{len(RESTARTS)} restarts (longest {longest:.1f}s): {len(traffic.records)} requests, {len(failed)} failed"
    print(f"\n{report}: {sorted({(r[2], str(r[3])[:60]) for r in failed})}")  # noqa: T201
    assert not outside, f"requests failed outside the restarts: {outside[:5]}"
    after = [r for r in traffic.records if r[0] >= windows[-1][1]]
    assert sum(r[2].startswith("apply") and r[3] == 200 for r in after) >= 2, "too few cleaning steps after"

    # Full recovery: the worker survived and still takes jobs (it profiles the newest version).
    assert rig.processes["worker"].poll() is None, "the task worker died with the database restart"
    newest = "SELECT profile_status FROM csv_processor_datasetversion ORDER BY id DESC LIMIT 1"
    wait_until(lambda: _rows(cluster, newest)[0][0] == "ready", timeout=30, what="the newest version profiled")
    _assert_no_half_applied_step(cluster, media)


def _assert_no_half_applied_step(cluster, media: Path) -> None:
    versions = _rows(cluster, "SELECT id, file, produced_by->>'job_id' FROM csv_processor_datasetversion")
    assert all((media / name).is_file() for _, name, _ in versions), "a version without its Parquet file"
    stored = {path.relative_to(media).as_posix() for path in (media / "versions").glob("*")}
    assert stored == {name for _, name, _ in versions}, "a Parquet file without its version"
    jobs = dict(_rows(cluster, "SELECT id, status FROM csv_processor_cleaningjob"))
    assert set(jobs.values()) <= {"succeeded", "failed"}, jobs
    results = dict(_rows(cluster, "SELECT id, result_version_id FROM csv_processor_cleaningjob"))
    made_by = {int(job): version for version, _, job in versions if job}
    assert made_by == {job: version for job, version in results.items() if jobs[job] == "succeeded"}
    assert all(results[job] is None for job, status in jobs.items() if status == "failed")
    (current,) = _rows(cluster, "SELECT current_version_id FROM csv_processor_dataset")
    assert current[0] == max(version for version, _, _ in versions)
