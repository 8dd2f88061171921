"""Object storage (issue 17 point 6): the app on an S3 bucket against the same app on local disk, in one run.

Bars, all against the test S3 server (moto's standalone server, started here on a free loopback port, with
a bucket made here) and a throwaway PostgreSQL database (STACK_POSTGRES, default
postgres://postgres@127.0.0.1:5432; created and dropped here). PostgreSQL, not SQLite, for every bar: it is
what a fleet of hosts shares, and two SQLite workers would queue on its one write lock.

1. Preview: p50 of GET /datasets/<id>/?page=500 of the 1M-row version through Django's test client (what the
   user waits for: owner check, a 50-row page read from the Parquet file, the rendered page), bucket <= 2x
   local disk. The bucket side is a web host that did not write the file: its cache is empty, so each page
   opens the Parquet file on the bucket and reads its footer and the row groups it needs by range requests.
2. Ingest: the 1M-row CSV (bench/ingest.py's three copies of nycflights13, 93 MB) to a ready version,
   bucket <= 1.3x local. Timed: `upload_create` (the web host stores the file), `upload_confirm`, and
   `upload_ingest`, the worker's task, run inline here on both sides (parse, Parquet written and stored, the
   version row). The HTTP body transfer, the same on both sides, is left out; the profile, queued after the
   version is ready, too. On the bucket side web and worker have separate caches, as on two hosts: the
   worker downloads the upload from the bucket. Each round also times a plain boto3 PUT and GET of the same
   file (no app code): the store's own floor, which the bucket side cannot go below.
3. Worker scaling: jobs completed per minute by 2 `manage.py db_worker` processes >= 1.7x by 1, on a queue of
   20 small uploads (15,000 flights rows each, 1.4 MB) on the bucket. A job is a task row: each upload's
   ingest and the profile it queues, 40 in all; the time runs from the first enqueue to the last finish
   (the tasks' own timestamps). Each worker has its own empty MEDIA_ROOT and cache, like a host of its own; workers are
   started and idle before the uploads are queued, so their start-up is not counted. Each round prints the
   cores the workers and the S3 server kept busy (CPU time over wall time), how long the workers' main
   threads were runnable but waited for a core, and the load average: a full machine, not the app, is
   then what stops a second worker from helping.

Sides alternate, every figure is a median of REPEATS (>= 5) rounds, the cores and the load average at the
start and end are printed, and the last line is one JSON object with "pass"; the exit status is 1 when a
bar is missed. Needs ../shared/datasets/nycflights13_flights.csv (see the README) and 10-15 minutes.
Run from the project root: .venv/bin/python bench/storage.py [--repeats N]
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project root, not bench/, first: bench/profile.py would shadow the standard `profile` module.
sys.path[0] = str(ROOT)

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import tempfile
import uuid
from collections.abc import Iterator

import boto3
import psycopg2

from bench.ingest import FLIGHTS

POSTGRES = os.environ.get("STACK_POSTGRES", "postgres://postgres@127.0.0.1:5432")
BARS = {"preview_ratio": 2.0, "ingest_ratio": 1.3, "worker_speedup": 1.7}
S3_KEY, S3_SECRET, S3_REGION = "bench", "bench", "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def s3_server(port: int, bucket: str) -> Iterator[int]:
    """moto's S3 server, started as the tests start it (imported once Django is set up), with a bucket."""
    from tests.csv_processor.helpers import s3_server_start

    try:
        process = s3_server_start(port)
    except RuntimeError as exc:
        sys.exit(str(exc))
    try:
        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=S3_KEY,
            aws_secret_access_key=S3_SECRET,
            region_name=S3_REGION,
        ).create_bucket(Bucket=bucket)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    name = f"csva_bench_storage_{os.getpid()}"
    try:
        admin = psycopg2.connect(f"{POSTGRES}/postgres")
    except psycopg2.OperationalError as exc:
        sys.exit(f"PostgreSQL at {POSTGRES} is needed (set STACK_POSTGRES): {exc}")
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield f"{POSTGRES}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def app_environment(*, database_url: str, port: int, bucket: str, work: Path) -> dict[str, str]:
    """The variables of every process of the run: the bench (web and inline worker) and the db_workers."""
    return {
        "DJANGO_SETTINGS_MODULE": "csv_analyzer.settings",
        "DJANGO_SECRET_KEY": "bench-storage",
        "DJANGO_DEBUG": "false",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(work / "web-media"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlruns.db'}",
        "CSVA_STORAGE_URL": f"s3://{bucket}/bench",
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_S3_REGION_NAME": S3_REGION,
        "AWS_ACCESS_KEY_ID": S3_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    repeats = max(parser.parse_args().repeats, 5)
    if not FLIGHTS.is_file():
        sys.exit(f"{FLIGHTS} is missing: this benchmark needs the shared datasets (see the README).")
    cores, load_start = os.cpu_count(), os.getloadavg()
    print(f"cores {cores}, load average at start {load_start}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="csva-bench-storage-"))
    port, bucket = free_port(), f"bench-{uuid.uuid4().hex[:8]}"
    try:
        with postgres_database() as database_url:
            env = app_environment(database_url=database_url, port=port, bucket=bucket, work=work)
            os.environ.update(env)
            from bench.objectstore.rounds import run_all  # sets Django up

            with s3_server(port, bucket) as store:
                figures = run_all(work=work, repeats=repeats, worker_env=dict(os.environ), store=store)
    except BaseException:
        print(f"logs kept in {work}", file=sys.stderr)
        raise
    shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    print(f"load average at end {load_end}", flush=True)
    summary = summarise(figures, cores=cores, load=(load_start, load_end), repeats=repeats)
    print(json.dumps(summary))
    sys.exit(0 if summary["pass"] else 1)


def summarise(figures: dict[str, dict[str, list[float]]], *, cores: int | None, load: tuple, repeats: int) -> dict:
    median = {
        bar: {side: statistics.median(values) for side, values in sides.items()} for bar, sides in figures.items()
    }
    ratios = {
        "preview_ratio": median["preview_s"]["bucket"] / median["preview_s"]["local"],
        "ingest_ratio": median["ingest_s"]["bucket"] / median["ingest_s"]["local"],
        "worker_speedup": median["jobs_per_minute"]["2"] / median["jobs_per_minute"]["1"],
    }
    passed = {
        "preview_ratio": ratios["preview_ratio"] <= BARS["preview_ratio"],
        "ingest_ratio": ratios["ingest_ratio"] <= BARS["ingest_ratio"],
        "worker_speedup": ratios["worker_speedup"] >= BARS["worker_speedup"],
    }
    return {
        "bench": "storage",
        "cores": cores,
        "repeats": repeats,
        "preview_p50_ms": {side: round(value * 1000, 1) for side, value in median["preview_s"].items()},
        "ingest_median_s": {side: round(value, 2) for side, value in median["ingest_s"].items()},
        "ingest_overhead_s": round(median["ingest_s"]["bucket"] - median["ingest_s"]["local"], 2),
        "store_put_get_93mb_s": {step: round(value, 2) for step, value in median["store_transfer_s"].items()},
        "jobs_per_minute_median": {workers: round(value, 1) for workers, value in median["jobs_per_minute"].items()},
        **{name: round(value, 3) for name, value in ratios.items()},
        "bars": BARS,
        "passed": passed,
        "load_average_start": [round(value, 2) for value in load[0]],
        "load_average_end": [round(value, 2) for value in load[1]],
        "database": "postgresql",
        "pass": all(passed.values()),
    }


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
