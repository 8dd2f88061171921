"""The prediction fast path: the active version's pipeline and input spec, loaded once per process.

The cache is keyed by the version and its model file's name and SHA-256, so activating another version
(a redeploy or a rollback) is picked up by the next request, and a changed file is never served. A
request costs one small query (the deployed model and its active version's file), one pass over the
records and one call into the pipeline.
"""

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from sklearn.pipeline import Pipeline

from csv_processor import metrics
from csv_processor.ml.serving import (
    FieldSpec,
    InputError,
    InputSpec,
    Predicted,
    PreparedRows,
    predict_frame,
    records_frame,
)
from csv_processor.ml.serving.compiled import (
    CompiledBlend,
    CompiledPipeline,
    agrees_with_pipeline,
    compile_pipeline,
    probe_records,
)
from csv_processor.ml.serving.explain import explain_rows
from csv_processor.models import DeployedModel, ModelVersion, TrainedModel
from csv_processor.process_cache import LruCache
from csv_processor.selectors.serving import input_spec_of
from csv_processor.services.serving.access import ServingTarget, ServingVersion, deployed_model_for_serving
from csv_processor.services.serving.predictions import predictions_log
from csv_processor.services.training.model_store import ModelFileError, trained_model_load
from users.models import User

logger = logging.getLogger(__name__)

__all__ = [
    "FieldSpec",
    "InputError",
    "InputSpec",
    "ModelNotReady",
    "PredictionResult",
    "deployed_model_for_serving",
    "prediction_make",
    "serving_model_get",
]

CACHE_SIZE = 8
_cache: "LruCache[tuple[int, str, str], ServingModel]" = LruCache(CACHE_SIZE)


class ModelNotReady(Exception):
    """The deployed model has no active version, or its file cannot be served; the message says which."""


@dataclass(frozen=True)
class ServingModel:
    version_id: int
    version_number: int
    pipeline: Pipeline
    spec: InputSpec
    # The same pipeline flattened for small requests (ml/serving/compiled.py), when it agreed with it.
    compiled: CompiledPipeline | CompiledBlend | None = None

    def predict(self, prepared: PreparedRows) -> Predicted:
        if self.compiled is not None:
            return self.compiled.answer(prepared.columns)
        return predict_frame(self.pipeline, prepared.frame, problem_type=self.spec.problem_type)


@dataclass(frozen=True)
class PredictionResult:
    ids: list[str]
    predictions: list
    probabilities: list[dict] | None
    warnings: list[list[str]]
    explanations: list[list[dict]] | None
    version: int


def serving_model_get(
    *, version: ModelVersion | ServingVersion, file: str | None = None, sha256: str | None = None
) -> ServingModel:
    """The version's pipeline and spec, from the per-process LRU cache when its file is unchanged.

    `file` and `sha256` (the version's model file) save a query when the caller already has them."""
    if file is None or sha256 is None:
        row = TrainedModel.objects.filter(run_id=version.run_id).values_list("file", "sha256").first()
        if row is None:
            raise ModelNotReady("The model file of the active version is gone; deploy another version.")
        file, sha256 = row
    return _cache.get_or_compute((version.pk, file, sha256), lambda: _load(version))


def _load(version: ModelVersion | ServingVersion) -> ServingModel:
    full = ModelVersion.objects.select_related("run__trained_model").get(pk=version.pk)
    pipeline = trained_model_load(trained_model=full.run.trained_model)
    spec = input_spec_of(run=full.run, columns=full.input_columns)
    compiled = _compiled(pipeline, spec)
    logger.info(
        "serving: loaded model version %s (run %s), %s", full.pk, full.run_id, "compiled" if compiled else "pipeline"
    )
    return ServingModel(full.pk, full.number, pipeline, spec, compiled)


def _compiled(pipeline: Pipeline, spec: InputSpec) -> CompiledPipeline | CompiledBlend | None:
    """The flattened pipeline, if it answers the probe rows exactly as the pipeline does."""
    compiled = compile_pipeline(pipeline, problem_type=spec.problem_type)
    if compiled is None:
        return None
    try:
        if agrees_with_pipeline(compiled, pipeline, records_frame(spec, probe_records(spec))):
            return compiled
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # A shape the flattening mishandles: the pipeline itself still answers.
        logger.warning("serving: compiled pipeline failed its check (%s); using the pipeline", exc)
        return None
    logger.warning("serving: compiled pipeline disagreed with the pipeline on probe rows; using the pipeline")
    return None


def _active(deployed_model: DeployedModel | ServingTarget) -> ServingModel:
    # None without a query when the model has no active version.
    version = deployed_model.active_version
    if version is None:
        raise ModelNotReady("This model has no active version yet; deploy one first.")
    try:
        return serving_model_get(
            version=version,
            file=getattr(deployed_model, "model_file", None),
            sha256=getattr(deployed_model, "model_sha256", None),
        )
    except ModelFileError as exc:
        raise ModelNotReady(str(exc)) from exc


def serving_spec_get(*, deployed_model: DeployedModel | ServingTarget) -> InputSpec:
    return _active(deployed_model).spec


def prediction_make(
    *,
    deployed_model: DeployedModel | ServingTarget,
    owner: User,
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
    predicted = model.predict(prepared)
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
        version=model.version_number,
    )
