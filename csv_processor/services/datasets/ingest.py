"""The background parse of a confirmed upload (CSV, Excel sheet, Parquet) into a dataset and its first version."""

import logging
import threading
import time
from collections.abc import Callable

import pandas as pd
from django.db import transaction
from django.db.models import F

from csv_processor import metrics
from csv_processor.ml.csv.reader import CsvParseError
from csv_processor.ml.types import infer_column_types
from csv_processor.models import Dataset, DatasetVersion, Upload
from csv_processor.services.datasets.upload_formats import to_parquet
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.storage import (
    StoredFileMissing,
    StoreUnavailable,
    file_name_new,
    files_delete,
    stored_local_path,
    stored_size,
    stored_write,
)

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def _progress_writer(upload_id: int, on_progress: Callable[[float], None] | None) -> Callable[[int, int], None]:
    """A progress callback that writes at most twice a second, from the calling thread only.

    The parser may report from its reader threads; a write from there would open a second database
    connection that waits on this thread's transaction, so those reports are kept for the next write here.
    """
    owner = threading.get_ident()
    state = {"written_at": 0.0, "share": 0.0}

    def write(done: int, total: int) -> None:
        state["share"] = max(state["share"], min(done / total, 0.99)) if total else state["share"]
        now = time.monotonic()
        if threading.get_ident() != owner or now - state["written_at"] < PROGRESS_EVERY_SECONDS:
            return
        state["written_at"] = now
        Upload.objects.filter(pk=upload_id).update(progress=state["share"])
        if on_progress is not None:
            on_progress(state["share"])

    return write


def _fail(upload_id: int, message: str) -> Upload:
    Upload.objects.filter(pk=upload_id).update(status=Upload.Status.FAILED, error=message, progress=0.0)
    return Upload.objects.get(pk=upload_id)


def upload_ingest(*, upload_id: int, on_progress: Callable[[float], None] | None = None) -> Upload | None:
    """Parse a queued upload; idempotent: only a QUEUED upload is taken, once."""
    claimed = Upload.claim(upload_id, progress=0.0)
    if not claimed:
        logger.info("upload %s is not queued (deleted or already taken); nothing to do", upload_id)
        return None
    upload = Upload.objects.get(pk=upload_id)
    version_name = file_name_new(folder="versions", suffix=".parquet")
    try:
        with stored_write(version_name) as version_path:
            progress = _progress_writer(upload_id, on_progress)
            summary = to_parquet(upload, stored_local_path(upload.file), version_path, progress)
            schema = [column.to_dict() for column in infer_column_types(pd.read_parquet(version_path))]
    except StoredFileMissing:
        files_delete([version_name])
        metrics.upload_failed(stage="ingest", reason="missing")
        return _fail(upload_id, "The uploaded file is missing from storage; upload it again.")
    except StoreUnavailable:
        files_delete([version_name])
        metrics.upload_failed(stage="ingest", reason="store")
        return _fail(upload_id, "The file store could not be reached. Confirm the parse again in a few minutes.")
    except UnicodeError as exc:
        files_delete([version_name])
        logger.info("upload %s failed to decode: %s", upload_id, exc)
        metrics.upload_failed(stage="ingest", reason="encoding")
        return _fail(
            upload_id,
            f"The file does not read as {upload.parse_options.get('encoding')}. "
            "Change the encoding in the parse settings.",
        )
    except (CsvParseError, ValueError) as exc:
        files_delete([version_name])
        logger.info("upload %s failed to parse: %s", upload_id, exc)
        metrics.upload_failed(stage="ingest", reason="parse")
        return _fail(upload_id, str(exc))
    except BaseException:
        files_delete([version_name])
        metrics.upload_failed(stage="ingest", reason="unexpected")
        _fail(upload_id, "An unexpected error stopped the parse. Try again, or contact your administrator.")
        raise
    return _create_dataset(upload, version_name, summary.rows, summary.columns, schema)


def _create_dataset(upload: Upload, version_name: str, rows: int, columns: int, schema: list) -> Upload:
    with transaction.atomic():
        dataset = Dataset.objects.create(
            owner=upload.owner, name=upload.dataset_name or upload.original_name, source_upload=upload
        )
        version = DatasetVersion.objects.create(
            dataset=dataset,
            number=1,
            file=version_name,
            size_bytes=stored_size(version_name),
            row_count=rows,
            column_count=columns,
            schema=schema,
            produced_by={
                "kind": "parse",
                "upload_id": upload.pk,
                "format": upload.source_format,
                "parse_options": upload.parse_options,
            },
        )
        Dataset.objects.filter(pk=dataset.pk).update(current_version=version, updated_at=F("created_at"))
        Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.SUCCEEDED, progress=1.0, dataset=dataset)
        task_enqueue_on_commit("dataset_version_profile_task", version.pk)
    logger.info("upload %s became dataset %s (%d rows x %d columns)", upload.pk, dataset.pk, rows, columns)
    return Upload.objects.get(pk=upload.pk)
