"""Reads of deployed models, batches and retrains, scoped to their owner: another user's object is a 404.

They live beside the serving services while selectors.py belongs to the datasets work; the names follow
the selector pattern so they can move there unchanged.
"""

import datetime as dt
import math
from dataclasses import asdict, dataclass
from typing import Any, TypeGuard

from django.db.models import QuerySet
from django.http import Http404

from csv_processor.ml.serving import build_input_spec
from csv_processor.ml.serving.drift import MIN_LIVE_ROWS
from csv_processor.models import BatchPrediction, DeployedModel, ModelRetrain, ModelVersion, Prediction, TrainingRun
from csv_processor.selectors.training.runs import training_run_card
from users.models import User

MAIN_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "mae"}


def deployed_model_get_for_user(*, user: User, model_id: int) -> DeployedModel:
    model = (
        DeployedModel.objects.filter(owner=user, pk=model_id)
        .select_related("dataset", "active_version__run__trained_model")
        .first()
    )
    if model is None:
        raise Http404("No such model.")
    return model


def deployed_model_list(*, user: User) -> QuerySet[DeployedModel]:
    return DeployedModel.objects.filter(owner=user).select_related("dataset", "active_version")


def model_version_list(*, deployed_model: DeployedModel) -> QuerySet[ModelVersion]:
    return deployed_model.versions.select_related("run__dataset_version").defer(
        "reference", "run__plots", "run__trials", "run__split", "run__importance"
    )


def deployable_run_list(*, deployed_model: DeployedModel, limit: int = 20) -> list[TrainingRun]:
    """The owner's successful runs predicting the same target the same way that are not yet a version of
    this model, newest first: what the model page offers to deploy as the next version."""
    runs = TrainingRun.objects.filter(
        owner_id=deployed_model.owner_id,
        status=TrainingRun.Status.SUCCEEDED,
        target=deployed_model.target,
        problem_type=deployed_model.problem_type,
        trained_model__isnull=False,
    ).exclude(pk__in=deployed_model.versions.values("run_id"))
    runs = runs.select_related("dataset_version").defer("plots", "trials", "split", "importance")
    return list(runs.order_by("-pk")[:limit])


def deploy_target_list(*, user: User, run: TrainingRun) -> QuerySet[DeployedModel]:
    """The user's deployed models a run could become the next version of (same target and problem type)."""
    return DeployedModel.objects.filter(owner=user, target=run.target, problem_type=run.problem_type).select_related(
        "active_version"
    )


def deploy_target_for_run(*, user: User, run: TrainingRun) -> DeployedModel | None:
    """The user's newest deployed model of the run's dataset predicting the same target the same way: the
    one `train --deploy` adds a version to (None: deploy as a new model)."""
    models = deploy_target_list(user=user, run=run).filter(dataset_id=run.dataset_version.dataset_id)
    return models.order_by("-pk").first()


def model_version_get(*, deployed_model: DeployedModel, number: int) -> ModelVersion:
    version = deployed_model.versions.select_related("run").filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def batch_prediction_get_for_user(*, user: User, batch_id: int) -> BatchPrediction:
    batch = BatchPrediction.objects.filter(owner=user, pk=batch_id).select_related("deployed_model").first()
    if batch is None:
        raise Http404("No such batch prediction.")
    return batch


def model_retrain_get_for_user(*, user: User, retrain_id: int) -> ModelRetrain:
    retrain = (
        ModelRetrain.objects.filter(deployed_model__owner=user, pk=retrain_id)
        .select_related("deployed_model", "run", "base_version")
        .first()
    )
    if retrain is None:
        raise Http404("No such retraining.")
    return retrain


def model_retrain_open(*, deployed_model: DeployedModel) -> ModelRetrain | None:
    """The model's retraining still training, comparing or waiting for a decision, if any."""
    open_statuses = [ModelRetrain.Status.TRAINING, ModelRetrain.Status.COMPARING, ModelRetrain.Status.READY]
    return deployed_model.retrains.filter(status__in=open_statuses).select_related("run__dataset_version").first()


@dataclass(frozen=True)
class ModelQuality:
    model_id: int
    metric: str
    test_value: float
    live_value: float | None
    drift: float | None


def deployed_model_quality_list() -> list[ModelQuality]:
    """Per deployed model with an active version: test and live score and the worst feature's PSI (capped
    at 1), for the metrics collector (`csv_processor/metrics_collector.py`)."""
    rows = []
    for model in DeployedModel.objects.filter(active_version__isnull=False).select_related("active_version__run"):
        quality = deployed_model_live_quality(deployed_model=model)
        if quality.test_value is None:
            continue
        # No figure (and so no gauge sample, no alert) until enough rows were logged to judge drift.
        features = drift_shown(model.drift).get("features") or []
        drift = min(max(f["psi"] for f in features), 1.0) if features else None
        rows.append(ModelQuality(model.pk, quality.metric, quality.test_value, quality.value, drift))
    return rows


def drift_shown(drift: dict | None) -> dict:
    """The stored drift without per-feature figures computed on too few rows (stored before they were
    left out): those PSIs are noise, not drift."""
    drift = dict(drift or {})
    if drift.get("features") and drift.get("rows", 0) < MIN_LIVE_ROWS:
        drift["features"] = []
    return drift


@dataclass(frozen=True)
class ModelDetail:
    id: int
    name: str
    problem_type: str
    target: str
    active_version: int | None
    ready: bool
    input_schema: list[dict]
    class_labels: list
    metrics: dict
    model_card: dict
    versions: list[ModelVersion]
    drift: dict
    live_quality: dict | None


def deployed_model_detail(*, deployed_model: DeployedModel) -> ModelDetail:
    """What the model page and `GET /api/models/{id}/` show: input schema, metrics, card, versions, drift."""
    version = deployed_model.active_version
    fields: list[dict] = []
    if version is not None:
        spec = input_spec_of(run=version.run, columns=version.input_columns)
        fields = [
            {
                "name": f.name,
                "role": f.role,
                "required": f.required,
                "minimum": f.minimum,
                "maximum": f.maximum,
                "median": f.median,
                "categories": list(f.categories),
                "date_min": f.date_min,
                "date_max": f.date_max,
            }
            for f in spec.fields
        ]
    quality = deployed_model_live_quality(deployed_model=deployed_model) if version is not None else None
    return ModelDetail(
        id=deployed_model.pk,
        name=deployed_model.name,
        problem_type=deployed_model.problem_type,
        target=deployed_model.target,
        active_version=version.number if version is not None else None,
        ready=version is not None,
        input_schema=fields,
        class_labels=list(version.run.class_labels) if version is not None else [],
        metrics=dict(version.run.metrics) if version is not None else {},
        model_card=training_run_card(run=version.run) if version is not None else {},
        versions=list(model_version_list(deployed_model=deployed_model)),
        drift=drift_shown(deployed_model.drift),
        live_quality=asdict(quality) if quality is not None else None,
    )


# Outcomes looked at for live quality: the most recent ones.
LIVE_WINDOW = 10_000


def input_spec_of(*, run: TrainingRun, columns: list[dict]):
    return build_input_spec(
        columns=[c["name"] for c in columns],
        dtypes={c["name"]: c["dtype"] for c in columns},
        feature_schema=run.feature_schema or {},
        target=run.target,
        problem_type=run.problem_type,
        classes=list(run.class_labels or []),
    )


@dataclass(frozen=True)
class LiveQuality:
    metric: str
    value: float | None
    rows: int
    test_value: float | None
    version: int | None = None


def deployed_model_live_quality(*, deployed_model: DeployedModel) -> LiveQuality:
    """Accuracy (classification) or mean absolute error (regression) of the active version on its predictions
    with a reported outcome, next to the same figure on its test rows at training time.

    Only the active version's predictions count: after a redeploy the older versions' outcomes say nothing
    about the model now answering (and would be set against another model's test figure)."""
    version = deployed_model.active_version
    if version is None:
        metric = "mae" if deployed_model.problem_type == "regression" else "accuracy"
        return LiveQuality(metric, None, 0, None)
    test_metrics = version.run.metrics
    labelled = Prediction.objects.filter(deployed_model=deployed_model, version=version, actual__isnull=False)
    pairs = list(labelled.order_by("-actual_at").values_list("output", "actual")[:LIVE_WINDOW])
    if deployed_model.problem_type == "regression":
        errors = [abs(float(o["prediction"]) - float(a)) for o, a in pairs if _number(a) and o]
        value = sum(errors) / len(errors) if errors else None
        return LiveQuality("mae", value, len(errors), test_metrics.get("mae"), version.number)
    hits = [str(o["prediction"]) == str(a) for o, a in pairs if o]
    value = sum(hits) / len(hits) if hits else None
    return LiveQuality("accuracy", value, len(hits), test_metrics.get("accuracy"), version.number)


def _number(value: Any) -> TypeGuard[str | float]:
    """Whether a JSON value (a reported outcome) reads as a finite number."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


RETRAIN_PERIODS: dict[str, dt.timedelta] = {
    DeployedModel.RetrainSchedule.DAILY: dt.timedelta(days=1),
    DeployedModel.RetrainSchedule.WEEKLY: dt.timedelta(days=7),
}


def retrain_next_check(deployed_model: DeployedModel) -> dt.datetime | None:
    """When the retraining schedule looks next (None when there is no schedule)."""
    period = RETRAIN_PERIODS.get(deployed_model.retrain_schedule)
    if period is None:
        return None
    return (deployed_model.retrain_checked_at or deployed_model.created_at) + period
