"""State metrics read from the database when /metrics is scraped (see csv_processor/metrics.py for events).

Each family is one or two aggregate queries. Features not built yet (training runs, deployed models) are
skipped until their model or selector can be imported, so this module never needs a migration to exist.
Register the collector only on the per-scrape registry of the /metrics view: never globally, never in the
worker, so no value is counted twice.
"""

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from csv_processor.models import Dataset, DatasetVersion, Upload, WorkerHeartbeat
from users.models import ApiToken

logger = logging.getLogger(__name__)

ACTIVE_WINDOWS = {"5m": dt.timedelta(minutes=5), "1h": dt.timedelta(hours=1), "1d": dt.timedelta(days=1)}
WEEK = dt.timedelta(days=7)


def optional_attribute(module: str, name: str) -> Any | None:
    """`module.name` if that feature exists yet, else None (training and serving land later)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def installed_model(name: str) -> Any | None:
    """csv_processor's model `name` if its code and its table both exist yet (migrations may lag the code)."""
    model = optional_attribute("csv_processor.models", name)
    if model is None or model._meta.db_table not in connection.introspection.table_names():
        return None
    return model


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _datasets(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    yield _gauge("csva_datasets", "Datasets that exist.", Dataset.objects.count())
    yield _gauge(
        "csva_dataset_versions",
        "Dataset versions that exist (uploads plus cleaning steps).",
        DatasetVersion.objects.count(),
    )
    by_status = dict(Upload.objects.values_list("status").annotate(n=Count("pk")).order_by())
    family = GaugeMetricFamily("csva_uploads_by_status", "Uploads by parse status.", labels=["status"])
    for status in Upload.Status.values:
        family.add_metric([status], by_status.get(status, 0))
    yield family


def _queues(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    queues = {name for backend in settings.TASKS.values() for name in backend.get("QUEUES", ["default"])}
    ready = DBTaskResult.objects.ready().values("queue_name").annotate(n=Count("pk"), oldest=Min("enqueued_at"))
    running = DBTaskResult.objects.running().values("queue_name").annotate(n=Count("pk"))
    depth = {row["queue_name"]: row for row in ready.order_by()}
    busy = {row["queue_name"]: row["n"] for row in running.order_by()}
    depth_family = GaugeMetricFamily("csva_task_queue_depth", "Tasks ready to run and not started.", labels=["queue"])
    age_family = GaugeMetricFamily(
        "csva_task_queue_oldest_age_seconds", "Age of the oldest task waiting to run (0 when none).", labels=["queue"]
    )
    running_family = GaugeMetricFamily("csva_tasks_running", "Tasks running now.", labels=["queue"])
    for queue in sorted(queues | set(depth) | set(busy)):
        row = depth.get(queue)
        depth_family.add_metric([queue], row["n"] if row else 0)
        age_family.add_metric([queue], max((now - row["oldest"]).total_seconds(), 0.0) if row else 0.0)
        running_family.add_metric([queue], busy.get(queue, 0))
    yield from (depth_family, age_family, running_family)


def _workers(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    fresh_since = now - dt.timedelta(seconds=settings.WORKER_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(last_seen_at__gte=fresh_since).count()
    yield _gauge("csva_workers_alive", "Task workers whose heartbeat is younger than CSVA_WORKER_STALE_SECONDS.", alive)


def _activity_sources() -> list[tuple[QuerySet, str, str]]:
    """(rows, user field, time field) for each thing a user does that leaves a timestamp.

    Training runs and predictions join here when their models exist (field names as in STYLE.md).
    """
    sources: list[tuple[QuerySet, str, str]] = [
        (Upload.objects.all(), "owner_id", "created_at"),
        (DatasetVersion.objects.all(), "dataset__owner_id", "created_at"),
        (ApiToken.objects.all(), "user_id", "last_used_at"),
    ]
    for name in ("TrainingRun", "Prediction"):
        model = installed_model(name)
        if model is not None and {"owner", "created_at"} <= {field.name for field in model._meta.get_fields()}:
            sources.append((model.objects.all(), "owner_id", "created_at"))
    return sources


def _user_activity(now: dt.datetime) -> dict[int, tuple[dt.datetime, bool]]:
    """Per user active in the last two weeks: the last activity, and whether any fell in the week before."""
    week_ago, two_weeks_ago = now - WEEK, now - 2 * WEEK
    activity: dict[int, tuple[dt.datetime, bool]] = {}

    def merge(rows: Iterable[tuple[int, dt.datetime, int]]) -> None:
        for user_id, last, previous in rows:
            seen, had_previous = activity.get(user_id, (last, False))
            activity[user_id] = (max(seen, last), had_previous or previous > 0)

    users = get_user_model().objects.filter(last_login__gte=two_weeks_ago)
    merge((pk, last, int(last < week_ago)) for pk, last in users.values_list("pk", "last_login"))
    for rows, user_field, time_field in _activity_sources():
        in_previous_week = Q(**{f"{time_field}__gte": two_weeks_ago, f"{time_field}__lt": week_ago})
        grouped = (
            rows.filter(**{f"{time_field}__gte": two_weeks_ago})
            .values(user_field)
            .annotate(last=Max(time_field), previous=Count("pk", filter=in_previous_week))
            .order_by()
        )
        merge(grouped.values_list(user_field, "last", "previous"))
    return activity


def _users(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    yield _gauge("csva_users", "Accounts that exist.", get_user_model().objects.count())
    activity = _user_activity(now)
    active = GaugeMetricFamily(
        "csva_active_users",
        "Users who logged in or created something (upload, version, run, prediction, API call) in the window.",
        labels=["window"],
    )
    for window, length in [*ACTIVE_WINDOWS.items(), ("7d", WEEK)]:
        active.add_metric([window], sum(1 for last, _ in activity.values() if last >= now - length))
    yield active
    this_week = {user for user, (last, _) in activity.items() if last >= now - WEEK}
    last_week = {user for user, (_, previous) in activity.items() if previous}
    yield _gauge("csva_users_active_last_week", "Users active 7 to 14 days ago.", len(last_week))
    yield _gauge(
        "csva_users_retained_weekly",
        "Users active 7 to 14 days ago who were active again in the last 7 days.",
        len(this_week & last_week),
    )


def _training(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    run_model = installed_model("TrainingRun")
    if run_model is None or not hasattr(run_model, "Status"):
        return
    counts = dict(run_model.objects.values_list("status").annotate(n=Count("pk")).order_by())
    family = GaugeMetricFamily("csva_training_runs_by_status", "Training runs by status.", labels=["status"])
    for status in run_model.Status.values:
        family.add_metric([status], counts.get(status, 0))
    yield family


def _model_quality(now: dt.datetime) -> Iterator[GaugeMetricFamily]:
    """Quality and drift of deployed models, from serving's `deployed_model_quality_list()`.

    It returns, per active deployed model: `model_id`, `metric` (e.g. "f1", "rmse"), `test_value` (on the
    held-out test set at training time), `live_value` (on labelled live traffic; None until known) and
    `drift` (0 = live inputs look like training data, 1 = nothing alike; None until computed).
    """
    quality_list = optional_attribute("csv_processor.selectors.serving", "deployed_model_quality_list")
    if quality_list is None:
        return
    labelled = ["model_id", "metric"]
    test = GaugeMetricFamily("csva_model_test_score", "Test-set score of deployed models.", labels=labelled)
    live = GaugeMetricFamily("csva_model_live_score", "Live score of deployed models.", labels=labelled)
    drift = GaugeMetricFamily("csva_model_drift", "Input drift of deployed models, 0 to 1.", labels=["model_id"])
    for row in quality_list():
        labels = [str(int(row.model_id)), str(row.metric)]
        test.add_metric(labels, row.test_value)
        if row.live_value is not None:
            live.add_metric(labels, row.live_value)
        if row.drift is not None:
            drift.add_metric(labels[:1], row.drift)
    yield from (test, live, drift)


SOURCES: list[Callable[[dt.datetime], Iterator[GaugeMetricFamily]]] = [
    _datasets,
    _queues,
    _workers,
    _users,
    _training,
    _model_quality,
]


class DatabaseCollector(Collector):
    """Reads the state gauges at scrape time; a source whose query fails is left out and counted."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        failed = 0
        for source in SOURCES:
            try:
                families = list(source(now))
            except DatabaseError as exc:
                logger.warning("metrics source %s failed: %s", source.__name__, exc)
                failed += 1
                continue
            yield from families
        yield _gauge("csva_metrics_sources_failed", "State metric sources whose query failed in this scrape.", failed)
