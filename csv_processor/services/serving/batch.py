"""Batch predictions: an uploaded CSV of raw rows, predicted in the worker, downloadable with the answers.

The file passes the same checks and parse rules as a dataset upload (sniffed options, refusal of
binary files, a full parse check of small files); the pipeline replays the cleaning recipe itself.
The result is the input plus prediction columns, with spreadsheet formulas neutralised.
"""

import logging
import time
from typing import IO

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from sklearn.pipeline import Pipeline

from csv_processor import metrics
from csv_processor.ml.csv.reader import CsvParseError, ParseOptions, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason
from csv_processor.ml.csv.tables import frame_to_csv
from csv_processor.ml.json_values import json_value
from csv_processor.ml.serving import InputSpec, Predicted, predict_frame
from csv_processor.models import BatchPrediction, DeployedModel
from csv_processor.services.datasets.upload_formats import parse_check
from csv_processor.services.datasets.uploads import ALLOWED_SUFFIXES, HEAD_BYTES, display_name
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.services.serving.predictions import predictions_log
from csv_processor.services.serving.runtime import ModelNotReady, serving_model_get
from csv_processor.storage import (
    StoredFileMissing,
    StoreUnavailable,
    file_name_new,
    files_delete,
    stored_local_path,
    stored_open,
    stored_write,
)
from users.models import User

logger = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
LOGGED_ROWS = 1000


def batch_prediction_create(
    *, owner: User, deployed_model: DeployedModel, uploaded_file: IO[bytes], name: str, size: int
) -> BatchPrediction:
    """Check and store the file, then queue the job; ValidationError with a plain reason if refused."""
    version_id = deployed_model.active_version_id
    if version_id is None:
        raise ValidationError("This model has no active version yet; deploy one first.", code="not_ready")
    shown = display_name(name)
    if not shown.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError("Choose a .csv, .tsv or .txt file.", code="suffix")
    if size > settings.UPLOAD_MAX_BYTES:
        raise ValidationError("The file is larger than uploads may be.", code="too_large")
    head = uploaded_file.read(HEAD_BYTES)
    uploaded_file.seek(0)
    reason = refuse_reason(head)
    if reason:
        raise ValidationError(reason, code="content")
    stored = file_name_new(folder="batches", suffix=".csv")
    try:
        with stored_write(stored) as path:
            with path.open("wb") as out:
                for chunk in iter(lambda: uploaded_file.read(1024 * 1024), b""):
                    out.write(chunk)
            options = detect_parse_options(path)
            parse_check(path, options, nrows=None if size <= settings.SYNC_PARSE_MAX_BYTES else 1000)
        return _queue(owner, deployed_model, version_id, shown, stored, size, options)
    except BaseException:
        files_delete([stored])
        raise


def _queue(
    owner: User, model: DeployedModel, version_id: int, name: str, stored: str, size: int, options: ParseOptions
) -> BatchPrediction:
    with transaction.atomic():
        batch = BatchPrediction.objects.create(
            owner=owner,
            deployed_model=model,
            version_id=version_id,
            original_name=name,
            file=stored,
            size_bytes=size,
            parse_options=options.to_dict(),
        )
        task_enqueue_on_commit("batch_prediction_execute_task", batch.pk)
    return batch


def batch_prediction_execute(*, batch_id: int) -> BatchPrediction | None:
    """Run a queued batch once (a claim guards against a second worker); FAILED with the reason on bad data."""
    claimed = BatchPrediction.claim(batch_id, progress=0.0)
    if not claimed:
        return None
    batch = BatchPrediction.objects.select_related("version", "deployed_model").get(pk=batch_id)
    started = time.perf_counter()
    try:
        result, rows, warnings = _predict_file(batch)
    except StoredFileMissing:
        return _finish(batch, BatchPrediction.Status.FAILED, error="The uploaded file is missing from storage.")
    except StoreUnavailable:
        return _finish(batch, BatchPrediction.Status.FAILED, error="The file store could not be reached.")
    except (ValidationError, CsvParseError, ModelNotReady, UnicodeError, ValueError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        logger.info("batch %s failed: %s", batch.pk, message)
        return _finish(batch, BatchPrediction.Status.FAILED, error=message[:2000])
    metrics.prediction_recorded(
        model_id=batch.deployed_model_id, channel="batch", seconds=time.perf_counter() - started, rows=rows
    )
    return _finish(batch, BatchPrediction.Status.SUCCEEDED, result_file=result, rows=rows, warnings=warnings)


def _finish(batch: BatchPrediction, status: str, **fields: object) -> BatchPrediction:
    BatchPrediction.objects.filter(pk=batch.pk).update(
        status=status, finished_at=timezone.now(), progress=1.0 if status == "succeeded" else batch.progress, **fields
    )
    return BatchPrediction.objects.get(pk=batch.pk)


def _predict_file(batch: BatchPrediction) -> tuple[str, int, list[str]]:
    model = serving_model_get(version=batch.version)
    frame = read_csv_sniffed(stored_local_path(batch.file), ParseOptions.from_dict(batch.parse_options))
    inputs = _aligned(frame, model.spec)
    parts = []
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = inputs.iloc[start : start + CHUNK_ROWS]
        parts.append(_answers(model.pipeline, chunk, model.spec))
        BatchPrediction.objects.filter(pk=batch.pk).update(progress=min(0.95, (start + len(chunk)) / len(frame)))
    answers = pd.concat(parts)
    _log_sample(batch, frame, answers)
    result = pd.concat([frame.reset_index(drop=True), answers.reset_index(drop=True)], axis=1)
    name = file_name_new(folder="batches", suffix=".csv")
    try:
        with stored_write(name) as path:
            path.write_text(frame_to_csv(result), encoding="utf-8", newline="")
    except BaseException:
        files_delete([name])
        raise
    return name, len(frame), _warnings(frame, model.spec)


def _aligned(frame: pd.DataFrame, spec: InputSpec) -> pd.DataFrame:
    missing = [f.name for f in spec.fields if f.required and f.name not in frame.columns]
    if missing:
        raise ValidationError(f"The file lacks the model's input columns: {', '.join(missing)}.", code="columns")
    data = {}
    for spec_field in spec.fields:
        column = frame[spec_field.name] if spec_field.name in frame.columns else pd.Series([None] * len(frame))
        if spec_field.dtype.startswith("datetime64") and not pd.api.types.is_datetime64_any_dtype(column):
            column = pd.to_datetime(column, errors="coerce", format="mixed")
        data[spec_field.name] = column.reset_index(drop=True)
    return pd.DataFrame(data)


def _answers(pipeline: Pipeline, chunk: pd.DataFrame, spec: InputSpec) -> pd.DataFrame:
    predicted = predict_frame(pipeline, chunk, problem_type=spec.problem_type)
    out = pd.DataFrame({"prediction": predicted.labels}, index=chunk.index)
    if predicted.probabilities is not None:
        for label in predicted.probabilities[0] if predicted.probabilities else {}:
            out[f"probability_{label}"] = [row[label] for row in predicted.probabilities]
    return out


def _log_sample(batch: BatchPrediction, frame: pd.DataFrame, answers: pd.DataFrame) -> None:
    head = frame.head(LOGGED_ROWS)
    records = head.astype(object).where(head.notna(), None).to_dict(orient="records")
    probability_columns = [c for c in answers.columns if c.startswith("probability_")]
    sample = answers.head(LOGGED_ROWS)
    predicted = Predicted(
        labels=sample["prediction"].tolist(),
        probabilities=[
            {c.removeprefix("probability_"): float(row[c]) for c in probability_columns} for _, row in sample.iterrows()
        ]
        if probability_columns
        else None,
        scores=np.zeros(len(sample)),
    )
    predictions_log(
        deployed_model_id=batch.deployed_model_id,
        version_id=batch.version_id,
        owner=batch.owner,
        channel="batch",
        records=[{k: json_value(v) for k, v in r.items()} for r in records],
        predicted=predicted,
    )


def _warnings(frame: pd.DataFrame, spec: InputSpec) -> list[str]:
    """Per column, how many values fall outside what training saw (they are still predicted)."""
    out = []
    for f in spec.features:
        if f.name not in frame.columns:
            continue
        column = frame[f.name]
        if f.role == "categorical" and f.complete:
            unseen = int((~column.dropna().astype("str").isin(f.categories)).sum())
            if unseen:
                out.append(f"{f.name}: {unseen} values not seen in training.")
        elif (
            f.role == "numeric"
            and f.minimum is not None
            and f.maximum is not None
            and pd.api.types.is_numeric_dtype(column)
        ):
            margin = 0.5 * max(f.maximum - f.minimum, abs(f.maximum), 1e-12)
            far = int(((column < f.minimum - margin) | (column > f.maximum + margin)).sum())
            if far:
                out.append(f"{f.name}: {far} values far outside the training range {f.minimum:g} to {f.maximum:g}.")
    return out


def batch_result_open(*, batch: BatchPrediction) -> IO[bytes]:
    """The result file opened for the download; StoredFileMissing if it is gone."""
    return stored_open(batch.result_file)
