"""The prediction fast path: the active version's pipeline and input spec, loaded once per process.

The cache is keyed by the version and its model file's name and SHA-256, so activating another version
(a redeploy or a rollback) is picked up by the next request, and a changed file is never served. A
request costs one small query (the deployed model and its active version's file), one pass over the
records and one call into the pipeline.
"""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.http import Http404
from sklearn.pipeline import Pipeline

from csv_processor import metrics
from csv_processor.ml.serving import InputError, InputSpec, predict_frame, records_frame
from csv_processor.ml.serving.explain import explain_rows
from csv_processor.models import DeployedModel, ModelVersion, TrainedModel
from csv_processor.services.model_store import ModelFileError, trained_model_load
from csv_processor.services.predictions import predictions_log
from csv_processor.services.serving import input_spec_of

logger = logging.getLogger(__name__)

__all__ = ["InputError", "ModelNotReady", "PredictionResult", "prediction_make", "serving_model_get"]

CACHE_SIZE = 8
_cache: "OrderedDict[tuple, ServingModel]" = OrderedDict()
_lock = threading.Lock()


class ModelNotReady(Exception):
    """The deployed model has no active version, or its file cannot be served; the message says which."""


@dataclass(frozen=True)
class ServingModel:
    version_id: int
    pipeline: Pipeline
    spec: InputSpec


@dataclass(frozen=True)
class PredictionResult:
    ids: list[str]
    predictions: list
    probabilities: list[dict] | None
    warnings: list[list[str]]
    explanations: list[list[dict]] | None
    version: int


def deployed_model_for_serving(*, user: object, model_id: int) -> DeployedModel:
    """The caller's model with just what serving needs (the big JSON fields of runs are left out)."""
    found = (
        DeployedModel.objects.filter(pk=model_id, owner=user)
        .select_related("active_version")
        .only("id", "owner_id", "task", "active_version__id", "active_version__number", "active_version__run_id")
        .first()
    )
    if found is None:
        raise Http404("No such model.")
    return found


def serving_model_get(*, version: ModelVersion) -> ServingModel:
    """The version's pipeline and spec, from the per-process LRU cache when its file is unchanged."""
    file_row = TrainedModel.objects.filter(run_id=version.run_id).values("pk", "file", "sha256").first()
    if file_row is None:
        raise ModelNotReady("The model file of the active version is gone; deploy another version.")
    key = (version.pk, file_row["file"], file_row["sha256"])
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    loaded = _load(version, file_row["pk"])
    with _lock:
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def _load(version: ModelVersion, trained_model_id: int) -> ServingModel:
    full = ModelVersion.objects.select_related("run__trained_model").get(pk=version.pk)
    pipeline = trained_model_load(trained_model=full.run.trained_model)
    logger.info("serving: loaded model version %s (run %s)", full.pk, full.run_id)
    return ServingModel(full.pk, pipeline, input_spec_of(run=full.run, columns=full.input_columns))


def _active(deployed_model: DeployedModel) -> ServingModel:
    if deployed_model.active_version_id is None:
        raise ModelNotReady("This model has no active version yet; deploy one first.")
    try:
        return serving_model_get(version=deployed_model.active_version)
    except ModelFileError as exc:
        raise ModelNotReady(str(exc)) from exc


def serving_spec_get(*, deployed_model: DeployedModel) -> InputSpec:
    return _active(deployed_model).spec


def prediction_make(
    *,
    deployed_model: DeployedModel,
    owner: object,
    records: list,
    channel: str,
    explain: bool = False,
    text_values: bool = False,
) -> PredictionResult:
    """Predict `records` with the active version; raises InputError (the caller's data) or ModelNotReady."""
    started = time.perf_counter()
    model = _active(deployed_model)
    if len(records) > settings.PREDICT_MAX_ROWS:
        raise InputError({"records": [f"At most {settings.PREDICT_MAX_ROWS} records per request."]})
    prepared = records_frame(model.spec, records, text_values=text_values)
    predicted = predict_frame(model.pipeline, prepared.frame, task=model.spec.task)
    explanations = explain_rows(model.pipeline, prepared.frame, model.spec, predicted) if explain else None
    ids = predictions_log(
        deployed_model_id=deployed_model.pk,
        version_id=model.version_id,
        owner=owner,
        channel=channel,
        records=records,
        predicted=predicted,
    )
    metrics.prediction_recorded(
        model_id=deployed_model.pk, channel=channel, seconds=time.perf_counter() - started, rows=len(records)
    )
    return PredictionResult(
        ids=ids,
        predictions=predicted.labels,
        probabilities=predicted.probabilities,
        warnings=prepared.warnings,
        explanations=explanations,
        version=deployed_model.active_version.number,
    )
