"""Where fitted pipelines live: joblib files in the file store with generated names, checked by SHA-256.

Only files this module wrote are ever unpickled: the name must be one it generates (`models/<hex>.joblib`)
and the bytes must hash to what was recorded when it was written. Loaded pipelines are cached per
process (keyed by name and hash), never loaded at import time.
"""

import hashlib
import logging
import re
from pathlib import Path

import joblib
import sklearn
from django.db.models.fields.files import FieldFile
from sklearn.pipeline import Pipeline

from csv_processor.models import TrainedModel, TrainingRun
from csv_processor.process_cache import LruCache
from csv_processor.storage import StoredFileMissing, file_name_new, files_delete, stored_local_path, stored_write

logger = logging.getLogger(__name__)

MODEL_FOLDER = "models"
MODEL_SUFFIX = ".joblib"
_OUR_NAME = re.compile(rf"^{MODEL_FOLDER}/[0-9a-f]{{32}}{re.escape(MODEL_SUFFIX)}$")
CACHE_SIZE = 8

_cache: LruCache[tuple[str, str], Pipeline] = LruCache(CACHE_SIZE)


class ModelFileError(Exception):
    """The stored model file is missing, not ours or altered; the message says which, in plain words."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def model_file_write(pipeline: Pipeline) -> tuple[str, str, int]:
    """Write a pipeline to a fresh generated name; return (name, sha256, size). The caller records it."""
    name = file_name_new(folder=MODEL_FOLDER, suffix=MODEL_SUFFIX)
    try:
        with stored_write(name) as path:
            joblib.dump(pipeline, path, compress=3)
            sha256, size = _sha256(path), path.stat().st_size
    except BaseException:
        files_delete([name])
        raise
    return name, sha256, size


def trained_model_save(
    *, run: TrainingRun, pipeline: Pipeline, algorithm: str, evaluated: Pipeline | None = None
) -> TrainedModel:
    """Store `pipeline` as the model of `run` (and `evaluated`, the model the test metrics come from, when
    `pipeline` was refitted on every row); the files are removed again if the row cannot be written."""
    name, sha256, size = model_file_write(pipeline)
    names = [name]
    try:
        evaluated_name, evaluated_sha256 = "", ""
        if evaluated is not None:
            evaluated_name, evaluated_sha256, _ = model_file_write(evaluated)
            names.append(evaluated_name)
        return TrainedModel.objects.create(
            run=run,
            file=name,
            sha256=sha256,
            size_bytes=size,
            evaluated_file=evaluated_name,
            evaluated_sha256=evaluated_sha256,
            algorithm=algorithm,
            sklearn_version=sklearn.__version__,
        )
    except BaseException:
        files_delete(names)
        raise


def trained_model_load(*, trained_model: TrainedModel, evaluated: bool = False) -> Pipeline:
    """The fitted Pipeline, after checking the file is one we wrote and is unchanged (cached per process).
    `evaluated`: the model the test metrics come from (the same as the deployed one when it was not
    refitted on every row)."""
    file, expected = trained_model.file, trained_model.sha256
    if evaluated and trained_model.evaluated_file:
        file, expected = trained_model.evaluated_file, trained_model.evaluated_sha256
    name = file.name or ""
    if not _OUR_NAME.match(name):
        raise ModelFileError(f"Model {trained_model.pk} does not point at a model file this app wrote.")
    key = (name, expected)
    return _cache.get_or_compute(key, lambda: _pipeline_read(trained_model, file, expected))


def _pipeline_read(trained_model: TrainedModel, file: FieldFile, expected: str) -> Pipeline:
    try:
        path = stored_local_path(file)
    except StoredFileMissing as exc:
        raise ModelFileError(f"The file of model {trained_model.pk} is missing; train the model again.") from exc
    actual = _sha256(path)
    if actual != expected:
        logger.error("model %s: file hash %s does not match the recorded %s", trained_model.pk, actual, expected)
        raise ModelFileError(
            f"The file of model {trained_model.pk} was changed after it was saved (checksum mismatch); "
            "it will not be loaded. Train the model again."
        )
    pipeline = joblib.load(path)
    if not isinstance(pipeline, Pipeline):
        raise ModelFileError(f"The file of model {trained_model.pk} does not hold a scikit-learn Pipeline.")
    return pipeline
