"""Input drift of deployed models, computed by the worker on a schedule, the prediction log's pruning and
the automatic retrainings that are due (on schedule or on the drift alert)."""

import datetime as dt
import logging

import pandas as pd
from django.conf import settings
from django.utils import timezone

from csv_processor.ml.serving.drift import MIN_LIVE_ROWS, drift_report, overall_verdict
from csv_processor.models import DeployedModel, Prediction
from csv_processor.services.jobs.queue import task_enqueue, task_get, task_queued_within
from csv_processor.services.serving.predictions import predictions_prune
from csv_processor.services.serving.retrain import model_retrains_automatic, model_retrains_check

logger = logging.getLogger(__name__)

LIVE_ROWS = 5000
LIVE_DAYS = 7


def deployed_model_drift_compute(*, deployed_model: DeployedModel) -> DeployedModel:
    """Compare the last week's logged inputs of the active version with its training rows (PSI).

    Below MIN_LIVE_ROWS logged rows there is no per-feature figure: the PSI of a handful of rows is large
    by chance alone (one row puts all its weight in one bin), and reporting it would raise false alarms."""
    version = deployed_model.active_version
    if version is None:
        return deployed_model
    since = timezone.now() - dt.timedelta(days=LIVE_DAYS)
    inputs = list(
        Prediction.objects.filter(deployed_model=deployed_model, version=version, created_at__gte=since)
        .order_by("-created_at")
        .values_list("inputs", flat=True)[:LIVE_ROWS]
    )
    live = pd.DataFrame.from_records([row for row in inputs if "_omitted" not in row])
    enough = len(live) >= MIN_LIVE_ROWS
    drifts = drift_report(version.reference or {}, live) if enough else []
    deployed_model.drift = {
        "version": version.number,
        "rows": len(live),
        "enough": enough,
        "verdict": overall_verdict(drifts, len(live)),
        "features": [{"feature": d.feature, "psi": d.psi, "verdict": d.verdict} for d in drifts],
    }
    deployed_model.drift_computed_at = timezone.now()
    deployed_model.save(update_fields=["drift", "drift_computed_at"])
    return deployed_model


def serving_maintenance() -> int:
    """The periodic job: drift of every deployed model, then the log's pruning; return the models done."""
    done = 0
    for model in DeployedModel.objects.filter(active_version__isnull=False).select_related("active_version"):
        deployed_model_drift_compute(deployed_model=model)
        done += 1
    pruned = predictions_prune()
    started = model_retrains_automatic()
    logger.info(
        "serving maintenance: drift of %d models, %d old predictions pruned, %d automatic retrainings started",
        done,
        pruned,
        len(started),
    )
    return done


def serving_periodic_enqueue_due() -> list[str]:
    """Enqueue the serving maintenance when its last run is older than CSVA_DRIFT_INTERVAL_SECONDS, and
    check retrainings whose training ended (cheap); return the task names enqueued."""
    model_retrains_check()
    recent = task_queued_within(task_get("serving_maintenance_task"), settings.DRIFT_INTERVAL_SECONDS)
    if recent or not DeployedModel.objects.exists():
        return []
    task_enqueue("serving_maintenance_task")
    return ["serving_maintenance_task"]
