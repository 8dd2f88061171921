"""The Prometheus metrics CSV Analyzer defines: events counted where they happen, state read when scraped.

- **Events** (uploads, sign-ups, log-ins, background jobs, training runs, predictions) are counters and
  histograms, incremented by the one-line calls below from services and signal receivers. Under gunicorn
  they live in `PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode, set up by
  `gunicorn.conf.py`), so all web workers add to the same series. The task worker serves its own on
  `CSVA_WORKER_METRICS_PORT`; dashboards sum both jobs.
- **State** (datasets, queue depth, active users, retention, model quality) is read from the database by
  `DatabaseCollector` at scrape time. Only the /metrics view adds it, to a registry built per scrape, so a
  value is never reported twice however many processes run.

Label values are bounded: fixed vocabularies (channel, stage, status), names from our own code (task,
algorithm, cleaning operation: lower-case identifiers, anything else becomes "other"), and model ids,
bounded by the number of deployed models. Never a user name, a file name or free text.
"""

import functools
import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.core.exceptions import ValidationError
from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    # For the annotation only: importing a model needs the app registry, and metrics does not.
    from users.models import User

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

OTHER = "other"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

CHANNELS = frozenset({"form", "api", "batch"})
UPLOAD_FAILURE_STAGES = frozenset({"upload", "confirm", "ingest"})
UPLOAD_FAILURE_REASONS = frozenset(
    {"empty", "suffix", "content", "quota", "too_large", "parse", "encoding", "options", "state", "unexpected"}
)
RUN_STATUSES = frozenset({"succeeded", "failed", "cancelled"})

# Seconds. Web-facing work is short; training runs are time-boxed to an hour or so.
PREDICTION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
JOB_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200)

UPLOADS = Counter("csva_uploads", "Uploaded files kept (before the user confirms the parse).")
UPLOAD_BYTES = Counter("csva_upload_bytes", "Bytes of uploaded files kept.")
UPLOAD_FAILURES = Counter(
    "csva_upload_failures",
    "Uploads refused or failed, by stage (upload, confirm, ingest) and reason.",
    ["stage", "reason"],
)
CLEANING_OPERATIONS = Counter(
    "csva_cleaning_operations", "Cleaning steps applied (each makes a dataset version), by operation.", ["operation"]
)
SIGNUPS = Counter("csva_signups", "Accounts created (sign-up page, admin or command line).")
LOGINS = Counter("csva_logins", "Successful log-ins.")
LOGIN_FAILURES = Counter("csva_login_failures", "Failed log-in attempts.")
TASKS_FINISHED = Counter(
    "csva_tasks_finished", "Background tasks finished, by task and status (SUCCESSFUL, FAILED).", ["task", "status"]
)
TASK_DURATION = Histogram(
    "csva_task_duration_seconds", "Run time of background tasks, by task.", ["task"], buckets=JOB_BUCKETS
)
TRAINING_RUNS = Counter(
    "csva_training_runs",
    "Training runs finished, by problem type, algorithm and status.",
    ["problem_type", "algorithm", "status"],
)
TRAINING_DURATION = Histogram(
    "csva_training_duration_seconds",
    "Wall time of finished training runs, by problem type.",
    ["problem_type"],
    buckets=JOB_BUCKETS,
)
PREDICTIONS = Counter(
    "csva_predictions", "Prediction requests by deployed model and channel (form, api, batch).", ["model_id", "channel"]
)
PREDICTION_ROWS = Counter("csva_prediction_rows", "Rows predicted by model and channel.", ["model_id", "channel"])
PREDICTION_LATENCY = Histogram(
    "csva_prediction_latency_seconds",
    "Time to answer a prediction request (a batch: the whole file), by channel.",
    ["channel"],
    buckets=PREDICTION_BUCKETS,
)


def bounded(value: object, allowed: frozenset[str] | None = None) -> str:
    """A label value from a known vocabulary, or from our own identifiers; anything else is "other"."""
    text = str(value).strip().lower()
    if allowed is not None:
        return text if text in allowed else OTHER
    return text if _IDENTIFIER.match(text) else OTHER


# --- Datasets ---------------------------------------------------------------------------------------------


def upload_recorded(*, size_bytes: int) -> None:
    UPLOADS.inc()
    UPLOAD_BYTES.inc(max(size_bytes, 0))


def upload_failed(*, stage: str, reason: str) -> None:
    UPLOAD_FAILURES.labels(bounded(stage, UPLOAD_FAILURE_STAGES), bounded(reason, UPLOAD_FAILURE_REASONS)).inc()


def counts_upload_refusals(stage: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a service so each ValidationError it raises counts as a failure of `stage`, by its code."""

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except ValidationError as exc:
                upload_failed(stage=stage, reason=getattr(exc, "code", None) or OTHER)
                raise

        return wrapper

    return decorate


def cleaning_operation_applied(*, operation: str) -> None:
    """Call once per cleaning step applied; `operation` is the op's registered name, e.g. "fill_missing"."""
    CLEANING_OPERATIONS.labels(bounded(operation)).inc()


# --- Accounts (connected to Django's auth signals in apps.py; users never imports csv_processor) -------


def on_user_saved(sender: type, instance: "User", created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        SIGNUPS.inc()


def on_user_logged_in(sender: type, **kwargs: Any) -> None:
    LOGINS.inc()


def on_user_login_failed(sender: str, **kwargs: Any) -> None:
    LOGIN_FAILURES.inc()


# --- Background jobs --------------------------------------------------------------------------------------


def on_task_finished(sender: type, task_result: Any, **kwargs: Any) -> None:
    """django-tasks' task_finished receiver: count the task by name and status, time it."""
    name = bounded(getattr(task_result.task, "name", OTHER))
    TASKS_FINISHED.labels(name, bounded(task_result.status)).inc()
    started, finished = task_result.started_at, task_result.finished_at
    if started is not None and finished is not None:
        TASK_DURATION.labels(name).observe(max((finished - started).total_seconds(), 0.0))


# --- Training and serving: called by their services ------------------------------------------------------


def training_run_finished(*, problem_type: str, algorithm: str, status: str, seconds: float | None) -> None:
    """Call once when a run reaches a final status, whoever ended it (worker, reaper, cancel).

    `problem_type` is "classification" or "regression", `algorithm` the chosen candidate's registered name (e.g.
    "random_forest"; "auto" when no candidate finished), `status` one of succeeded/failed/cancelled,
    `seconds` its wall time, or None for a run that never started (it is then not timed).
    """
    label = bounded(problem_type)
    TRAINING_RUNS.labels(label, bounded(algorithm), bounded(status, RUN_STATUSES)).inc()
    if seconds is not None:
        TRAINING_DURATION.labels(label).observe(max(seconds, 0.0))


def training_runs_initialize(*, algorithms: dict[str, list[str]]) -> None:
    """Start every training-run series at 0 in this process: call once where runs execute (the worker).

    Prometheus' increase() cannot see a series step from absent to 1, so without this the training-failure
    alert misses the first failed run (and the first success of each algorithm) after every worker start.
    `algorithms` maps a problem type ("classification", "regression") to its algorithms' registered names.
    """
    for problem_type, names in algorithms.items():
        for status in RUN_STATUSES:
            TRAINING_RUNS.labels(bounded(problem_type), "auto", status)
        for name in names:
            TRAINING_RUNS.labels(bounded(problem_type), bounded(name), "succeeded")


def prediction_recorded(*, model_id: int, channel: str, seconds: float, rows: int = 1) -> None:
    """Call once per answered prediction request: a form, an API call or a whole batch file.

    `model_id` is the deployed model's primary key: a label bounded by the number of deployed models, so
    keep deployments to the ones in use (each id stays a series until Prometheus' retention drops it).
    """
    model_label, channel_label = str(int(model_id)), bounded(channel, CHANNELS)
    PREDICTIONS.labels(model_label, channel_label).inc()
    PREDICTION_ROWS.labels(model_label, channel_label).inc(max(rows, 0))
    PREDICTION_LATENCY.labels(channel_label).observe(max(seconds, 0.0))
