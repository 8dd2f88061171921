"""The one door to MLflow: every `import mlflow` of the app is in this module.

Layout: one experiment per dataset (`dataset-<id>`); one parent run per training job with a nested child
run per cross-validated configuration; the best pipeline logged as the parent's model (signature and
input example) and registered in the Model Registry. The services decide what to log; this module only
knows how.

MLflow calls are bounded: an HTTP tracking server is probed first (a refused port, or a server that
accepts connections and never answers, fails in PROBE_SECONDS each for the connection and the answer),
and MLflow's own HTTP retries and timeouts are capped, so an unreachable or hung server delays a job by
seconds, not minutes. Failures surface as `TrackingUnavailable` for the caller to retry;
`TrackingUnreachable` when nothing answered at all (refused, reset or timed out), an outage rather than
a problem of the run.
"""

import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
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
from mlflow.environment_variables import MLFLOW_RUN_ID
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
# five seconds per try, so a server that dies or hangs mid-log costs about ten seconds, not MLflow's
# minutes (its defaults: 7 retries, 120 s each). `attempt_seconds_bound` adds them up.
HTTP_LIMITS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
}
REGISTRATION_WAIT_SECONDS = 10
PLOTS_DIR = "plots"
# The parent run's tags naming the app's training run (its id and creation time, as ids restart with a new
# database): a retry finds what an interrupted attempt left.
TRAINING_RUN_TAG = "csv_analyzer.training_run_id"
TRAINING_RUN_CREATED_TAG = "csv_analyzer.training_run_created"
_ERRORS = (MlflowException, requests.RequestException, OSError, SQLAlchemyError)
# Nothing answered: refused, reset, or no reply in time (requests wraps a read timeout that used up the
# retries as a ConnectionError). An SSL error also is a ConnectionError to requests but is a set-up fault.
_NO_ANSWER = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)


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
    text_artifacts: dict[str, str] = field(default_factory=dict)
    # PNG images by file name, logged under PLOTS_DIR/.
    images: dict[str, bytes] = field(default_factory=dict)


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


def attempt_seconds_bound() -> float:
    """The longest an outage can hold one logging attempt: the probe (connection and answer), then one
    MLflow request that gets no answer in any of its tries (the attempt stops at the first such request)."""
    tries = int(HTTP_LIMITS["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]) + 1
    per_try = float(HTTP_LIMITS["MLFLOW_HTTP_REQUEST_TIMEOUT"])
    backoff = float(HTTP_LIMITS["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"]) * 2 ** max(tries - 2, 0)
    jitter = float(HTTP_LIMITS["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"])
    # urllib3 waits no backoff before the first retry, so this overcounts when there is one retry.
    return 2 * PROBE_SECONDS + tries * per_try + (tries - 1) * (backoff + jitter)


def no_answer(exc: BaseException) -> bool:
    """Whether `exc`, or an error it was raised from or while handling, says nothing answered."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _NO_ANSWER) and not isinstance(current, requests.exceptions.SSLError):
            return True
        current = current.__cause__ or current.__context__
    return False


def tracking_probe() -> None:
    """Raise TrackingUnreachable when the tracking server takes no connection or answers no request."""
    _probe(tracking_uri())


def _probe(uri: str) -> None:
    """Fail fast when an HTTP tracking server does not accept a connection or does not answer a request
    (any status will do: a hung server answers none)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return
    try:
        requests.get(f"{uri.rstrip('/')}/health", timeout=(PROBE_SECONDS, PROBE_SECONDS), allow_redirects=False)
    except requests.RequestException as exc:
        if no_answer(exc):
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


def training_log(log: TrainingLog, *, probed: bool = False) -> Tracked:
    """Log a finished training job; raises TrackingUnavailable when MLflow cannot take it. `probed`: the
    caller has just run `tracking_probe()` (before preparing the log), so it is not run twice."""
    uri = tracking_uri()
    if not probed:
        _probe(uri)
    try:
        _configure()
        client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        experiment_id = _experiment_id(client, log.experiment_name)
        return _earlier_attempt_adopted(log, client, experiment_id) or _log_run(log, client, experiment_id)
    except _ERRORS as exc:
        logger.warning("MLflow logging failed (%s): %s", type(exc).__name__, exc)
        if no_answer(exc):
            raise TrackingUnreachable(f"MLflow stopped answering: {exc}") from exc
        raise TrackingUnavailable(f"MLflow could not log the run: {exc}") from exc


def _earlier_attempt_adopted(log: TrainingLog, client: MlflowClient, experiment_id: str) -> Tracked | None:
    """What an attempt interrupted mid-way (worker killed, server gone) left of this training run.

    Registering the model is the last step: an earlier parent run with a registered version holds
    everything and is adopted (a retry must not register a second version). Any other earlier parent run
    is partial: it and its child runs are deleted before logging again, so the experiment shows one.
    """
    training_run = log.tags.get(TRAINING_RUN_TAG)
    identity = {key: log.tags[key] for key in (TRAINING_RUN_TAG, TRAINING_RUN_CREATED_TAG) if key in log.tags}
    if len(identity) < 2:
        return None
    match = " and ".join(f"tags.`{key}` = '{value}'" for key, value in identity.items())
    earlier = client.search_runs([experiment_id], filter_string=match)
    for run in earlier:
        run_id = run.info.run_id
        versions = client.search_model_versions(f"run_id = '{run_id}'")
        if versions:
            if run.info.status != "FINISHED":
                client.set_terminated(run_id, "FINISHED")
            version = max(int(item.version) for item in versions)
            logger.info("MLflow run %s of training run %s was complete; adopted", run_id, training_run)
            return Tracked(experiment_id=experiment_id, run_id=run_id, model_version=str(version))
    for run in earlier:
        children = client.search_runs(
            [experiment_id], filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{run.info.run_id}'"
        )
        for doomed in [*children, run]:
            client.delete_run(doomed.info.run_id)
        logger.info("MLflow run %s of training run %s was partial; deleted", run.info.run_id, training_run)
    return None


def _end_failed(exc: BaseException) -> None:
    """End the partial run as FAILED; when the server stopped answering, only forget it here: telling
    the server would wait on it for nothing (and double the time an outage holds the attempt)."""
    if no_answer(exc):
        # MLflow's end_run always asks the server; this is the local half of it (mlflow/tracking/fluent.py).
        MLFLOW_RUN_ID.unset()
        mlflow.tracking.fluent._active_run_stack.get().clear()
        return
    try:
        mlflow.end_run(status="FAILED")
    except _ERRORS as failed:
        logger.info("could not mark the partial MLflow run as failed: %s", failed)


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


def _log_images(client: MlflowClient, run_id: str, images: dict[str, bytes]) -> None:
    """All images in one call (one upload per file on a server, no figure kept in memory)."""
    if not images:
        return
    with tempfile.TemporaryDirectory(prefix="csva-plots-") as folder:
        for name, content in images.items():
            (Path(folder) / Path(name).name).write_bytes(content)
        client.log_artifacts(run_id, folder, artifact_path=PLOTS_DIR)


def _log_run(log: TrainingLog, client: MlflowClient, experiment_id: str) -> Tracked:
    parent = mlflow.start_run(experiment_id=experiment_id, run_name=log.run_name, tags=log.tags)
    try:
        tracked = _log_parent(log, client, experiment_id, parent.info.run_id)
    except BaseException as exc:
        # What the `with mlflow.start_run()` block did, except for a silent server (see _end_failed).
        _end_failed(exc)
        raise
    mlflow.end_run()
    logger.info("logged MLflow run %s (model %s v%s)", tracked.run_id, log.registered_model_name, tracked.model_version)
    return tracked


def _log_parent(log: TrainingLog, client: MlflowClient, experiment_id: str, run_id: str) -> Tracked:
    """Everything of the active parent run `run_id` but its start and end."""
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
    for artifact_name, text in log.text_artifacts.items():
        mlflow.log_text(text, artifact_name)
    _log_images(client, run_id, log.images)
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
    return Tracked(experiment_id=experiment_id, run_id=run_id, model_version=str(version or ""))
