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
from django.db import connection
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


_SERVING_SQL = None


def _serving_sql() -> str:
    global _SERVING_SQL
    if _SERVING_SQL is None:
        model, version, trained = (m._meta.db_table for m in (DeployedModel, ModelVersion, TrainedModel))
        # Table names come from our own models' metadata, never from input; the values are parameters.
        _SERVING_SQL = (
            f'SELECT m.id, m.task, v.id, v.number, v.run_id, t.file, t.sha256 FROM "{model}" m '  # noqa: S608
            f'LEFT JOIN "{version}" v ON v.id = m.active_version_id '
            f'LEFT JOIN "{trained}" t ON t.run_id = v.run_id '
            "WHERE m.id = %s AND m.owner_id = %s"
        )
    return _SERVING_SQL


def deployed_model_for_serving(*, user: object, model_id: int) -> DeployedModel:
    """The caller's model with just what serving needs: the active version and its model file's name and
    hash. One fixed SQL statement: compiling the equivalent ORM query costs more than a small model's
    prediction. The instances are read-only views of the rows."""
    with connection.cursor() as cursor:
        cursor.execute(_serving_sql(), [int(model_id), user.pk])
        row = cursor.fetchone()
    if row is None:
        raise Http404("No such model.")
    model_pk, task, version_pk, number, run_id, file, sha256 = row
    found = DeployedModel(id=model_pk, owner_id=user.pk, task=task, active_version_id=version_pk)
    if version_pk is not None:
        found.active_version = ModelVersion(id=version_pk, number=number, run_id=run_id, deployed_model_id=model_pk)
    found.model_file, found.model_sha256 = file, sha256
    return found


def serving_model_get(*, version: ModelVersion, file: str | None = None, sha256: str | None = None) -> ServingModel:
    """The version's pipeline and spec, from the per-process LRU cache when its file is unchanged.

    `file` and `sha256` (the version's model file) save a query when the caller already has them."""
    if file is None or sha256 is None:
        row = TrainedModel.objects.filter(run_id=version.run_id).values_list("file", "sha256").first()
        if row is None:
            raise ModelNotReady("The model file of the active version is gone; deploy another version.")
        file, sha256 = row
    key = (version.pk, file, sha256)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    loaded = _load(version)
    with _lock:
        _cache[key] = loaded
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return loaded


def _load(version: ModelVersion) -> ServingModel:
    full = ModelVersion.objects.select_related("run__trained_model").get(pk=version.pk)
    pipeline = trained_model_load(trained_model=full.run.trained_model)
    logger.info("serving: loaded model version %s (run %s)", full.pk, full.run_id)
    return ServingModel(full.pk, pipeline, input_spec_of(run=full.run, columns=full.input_columns))


def _active(deployed_model: DeployedModel) -> ServingModel:
    if deployed_model.active_version_id is None:
        raise ModelNotReady("This model has no active version yet; deploy one first.")
    try:
        return serving_model_get(
            version=deployed_model.active_version,
            file=getattr(deployed_model, "model_file", None),
            sha256=getattr(deployed_model, "model_sha256", None),
        )
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
