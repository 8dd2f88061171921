"""gunicorn settings for the web container (`gunicorn -c gunicorn.conf.py csv_analyzer.wsgi`).

Environment overrides: GUNICORN_BIND, GUNICORN_WORKERS, GUNICORN_THREADS, GUNICORN_TIMEOUT and
PROMETHEUS_MULTIPROC_DIR. See docs/operations.md for sizing.
"""

import os
import shutil
import tempfile
from pathlib import Path

# Metrics from every worker process go to files in one directory (prometheus_client's multiprocess
# mode); /metrics adds them up. Set it before anything imports prometheus_client, which reads it once.
# The default is private to this master process, so two servers on one machine never mix their files.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(Path(tempfile.gettempdir()) / f"csva-metrics-{os.getpid()}"))

# One OpenMP/BLAS thread per request thread: requests run in parallel already, and a small prediction
# split over threads that compete with the other workers for the same cores only waits longer.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gthread workers: pages wait on the database and on files rather than the CPU, so threads are cheap.
# Two processes per core suits the Compose default; more workers need more database connections.
workers = int(os.environ.get("GUNICORN_WORKERS", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Long work runs in the task worker; 120 s is a backstop for a slow upload nginx already buffered.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then to bound memory growth from pandas.
max_requests = 1000
max_requests_jitter = 100
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - the heartbeat file, in RAM
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'


def on_starting(server: object) -> None:
    """Start with an empty metrics directory: files of a previous run would add stale counts."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)


def post_worker_init(worker: object) -> None:
    """Import every view before taking requests, so no user waits seconds for pandas to load.

    Without this the first request of each new worker (at start, and after each max_requests recycle)
    took 6 to 9 seconds in the stack test.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point


def child_exit(server: object, worker: object) -> None:
    """Drop the live gauges of a worker that exited; its counters stay in the totals."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: object) -> None:
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
