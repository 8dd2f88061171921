"""The one door to MLflow: every `import mlflow` of the app is in this module.

Layout: one experiment per dataset (`dataset-<id>`); one parent run per training job with a nested child
run per cross-validated configuration; the best pipeline logged as the parent's model (signature and
input example) and registered in the Model Registry. The services decide what to log; this module only
knows how.

MLflow calls are bounded: an HTTP tracking server is probed first (a refused or silent port fails in
PROBE_SECONDS), and MLflow's own HTTP retries and timeouts are capped, so an unreachable server delays a
training job by seconds, not minutes. Failures surface as `TrackingUnavailable` for the caller to retry.
"""

import logging
import math
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import mlflow
import mlflow.data
import mlflow.sklearn
import pandas as pd
import requests
import skops.io
from django.conf import settings
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, DataType, Schema
from mlflow.types.utils import _infer_schema
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

PROBE_SECONDS = 3.0
# MLflow reads these at each request (mlflow/environment_variables.py, utils/rest_utils.py): one retry,
# five seconds per attempt, so a server that dies mid-log costs about ten seconds, not MLflow's minutes.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
}
REGISTRATION_WAIT_SECONDS = 10
_ERRORS = (MlflowException, requests.RequestException, OSError, SQLAlchemyError)


class TrackingUnavailable(Exception):
    """MLflow could not be reached or refused the logging; the message says why."""


class TrackingUnreachable(TrackingUnavailable):
    """Nothing accepts connections at the tracking URI: an outage of the server, not a problem of the run."""


@dataclass(frozen=True)
class ChildRun:
    name: str
    params: dict[str, Any]
    metrics: dict[str, float]


@dataclass(frozen=True)
class TrainingLog:
    """What to log for one training job; plain values, built by the training services."""

    experiment_name: str
    run_name: str
    params: dict[str, Any]
    metrics: dict[str, float]
    tags: dict[str, str]
    children: list[ChildRun]
    dataset: pd.DataFrame
    dataset_name: str
    target: str | None
    pipeline: Any
    input_example: pd.DataFrame
    registered_model_name: str
    pip_requirements: list[str]
    json_artifacts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Tracked:
    experiment_id: str
    run_id: str
    model_version: str


def tracking_uri() -> str:
    return settings.MLFLOW_TRACKING_URI


def _configure() -> None:
    os.environ.update(HTTP_LIMITS)
    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_registry_uri(tracking_uri())


def _probe(uri: str) -> None:
    """Fail fast when an HTTP tracking server does not even accept a connection."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=PROBE_SECONDS):
            pass
    except OSError as exc:
        raise TrackingUnreachable(f"MLflow at {parsed.scheme}://{parsed.netloc} is unreachable: {exc}") from exc


def _experiment_id(client: MlflowClient, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        root = getattr(settings, "MLFLOW_ARTIFACT_ROOT", "")
        location = f"{root.rstrip('/')}/{name}" if root else None
        return client.create_experiment(name, artifact_location=location)
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
    return experiment.experiment_id


def _plain_params(params: dict[str, Any]) -> dict[str, str]:
    return {str(key)[:250]: str(value)[:6000] for key, value in params.items()}


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items() if value is not None and math.isfinite(value)}


def _batch(client: MlflowClient, run_id: str, params: dict[str, Any], metrics: dict[str, float]) -> None:
    """Params and metrics of a run in one request (the client splits it past MLflow's per-request limits)."""
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(key, value, now, 0) for key, value in _finite(metrics).items()],
        params=[Param(key, value) for key, value in _plain_params(params).items()],
    )


def dataset_schema(frame: pd.DataFrame) -> Schema | None:
    """MLflow's schema of `frame` (None where MLflow infers none), with text columns typed from their dtype:
    MLflow's own inference looks at every value of a text column (seconds on tens of thousands of rows)."""
    text = [name for name in frame.columns if isinstance(frame[name].dtype, pd.StringDtype)]
    others = [name for name in frame.columns if name not in text]
    try:
        # The inference PandasDataset.schema runs, on the other columns only.
        specs = {spec.name: spec for spec in _infer_schema(frame[others]).inputs} if others else {}
    except MlflowException:
        return None
    return Schema(
        [
            ColSpec(DataType.string, name, required=not frame[name].hasnans) if name in text else specs[name]
            for name in frame.columns
        ]
    )


def training_log(log: TrainingLog) -> Tracked:
    """Log a finished training job; raises TrackingUnavailable when MLflow cannot take it."""
    uri = tracking_uri()
    _probe(uri)
    try:
        _configure()
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        experiment_id = _experiment_id(client, log.experiment_name)
        return _log_run(log, client, experiment_id)
    except _ERRORS as exc:
        logger.warning("MLflow logging failed (%s): %s", type(exc).__name__, exc)
        if mlflow.active_run() is not None:
            _end_failed()
        raise TrackingUnavailable(f"MLflow could not log the run: {exc}") from exc


def _end_failed() -> None:
    try:
        mlflow.end_run(status="FAILED")
    except _ERRORS as exc:
        logger.info("could not mark the partial MLflow run as failed: %s", exc)


def _trusted_types(pipeline: Any) -> list[str]:
    """The types skops must accept to load this pipeline again. Trusting them is sound here and only
    here: the pipeline was fitted in this process, not read from a file anyone else could have written."""
    return skops.io.get_untrusted_types(data=skops.io.dumps(pipeline))


def _log_children(client: MlflowClient, experiment_id: str, parent_id: str, children: list[ChildRun]) -> None:
    """Three requests per child (create, one batch, end), where MLflow's fluent calls take five."""
    for child in children:
        run = client.create_run(experiment_id, run_name=child.name, tags={MLFLOW_PARENT_RUN_ID: parent_id})
        _batch(client, run.info.run_id, child.params, child.metrics)
        client.set_terminated(run.info.run_id)


def _log_run(log: TrainingLog, client: MlflowClient, experiment_id: str) -> Tracked:
    with mlflow.start_run(experiment_id=experiment_id, run_name=log.run_name, tags=log.tags) as parent:
        run_id = parent.info.run_id
        _batch(client, run_id, log.params, log.metrics)
        dataset = mlflow.data.from_pandas(
            log.dataset, name=log.dataset_name, targets=log.target if log.target in log.dataset.columns else None
        )
        # Setting the cached property spares MLflow's value-by-value inference (see dataset_schema).
        dataset.schema = dataset_schema(log.dataset)
        mlflow.log_input(dataset, context="training")
        _log_children(client, experiment_id, run_id, log.children)
        for artifact_name, content in log.json_artifacts.items():
            mlflow.log_dict(content, artifact_name)
        predictions = log.pipeline.predict(log.input_example)
        info = mlflow.sklearn.log_model(
            log.pipeline,
            name="model",
            signature=infer_signature(log.input_example, predictions),
            input_example=log.input_example,
            registered_model_name=log.registered_model_name,
            await_registration_for=REGISTRATION_WAIT_SECONDS,
            pip_requirements=log.pip_requirements,
            skops_trusted_types=_trusted_types(log.pipeline),
        )
    version = info.registered_model_version
    logger.info("logged MLflow run %s (model %s v%s)", run_id, log.registered_model_name, version)
    return Tracked(experiment_id=experiment_id, run_id=run_id, model_version=str(version or ""))
