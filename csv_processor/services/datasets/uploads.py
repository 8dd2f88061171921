"""Uploads: take a file in (CSV, Excel workbook, Parquet), check it, keep the original, and (after the user
confirms) parse it."""

import hashlib
import logging
from pathlib import Path, PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from csv_processor import metrics
from csv_processor.models import Upload
from csv_processor.selectors.datasets import user_storage_used
from csv_processor.services.datasets.upload_formats import (
    CSV_SUFFIXES,
    confirmed_options,
    head_check,
    stored_check,
    upload_format,
)
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.storage import file_name_new, files_delete, stored_local_path, stored_write
from users.models import User

logger = logging.getLogger(__name__)

# Batch predictions read CSV only.
ALLOWED_SUFFIXES = CSV_SUFFIXES
HEAD_BYTES = 8192


class QuotaExceeded(ValidationError):
    """The upload would take the user past their storage quota."""


def display_name(raw_name: str) -> str:
    """The browser's file name reduced to its last part, for display only (never a storage path)."""
    name = PurePath(raw_name.replace("\\", "/")).name.strip().replace("\x00", "")
    return name[:255] or "upload.csv"


def _check_quota(owner: User, size: int) -> None:
    used = user_storage_used(user=owner)
    if used + size > settings.USER_QUOTA_BYTES:
        quota_mb = settings.USER_QUOTA_BYTES / 1024**2
        raise QuotaExceeded(
            f"Your storage is full: {used / 1024**2:.1f} MB of {quota_mb:g} MB used. "
            "Delete a dataset you no longer need, then try again.",
            code="quota",
        )


def _copy_and_hash(source: IO[bytes], target: Path) -> str:
    digest = hashlib.sha256()
    with target.open("wb") as out:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


@metrics.counts_upload_refusals("upload")
def upload_create(*, owner: User, uploaded_file: IO[bytes], name: str, size: int) -> Upload:
    """Check and store an uploaded file; raise ValidationError with a user-facing message if it is refused."""
    shown_name = display_name(name)
    fmt = upload_format(shown_name)
    head = uploaded_file.read(HEAD_BYTES)
    uploaded_file.seek(0)
    head_check(fmt, head)
    _check_quota(owner, size)
    stored_name = file_name_new(folder="uploads", suffix=f".{fmt}")
    try:
        with stored_write(stored_name) as path:
            sha256 = _copy_and_hash(uploaded_file, path)
            options = stored_check(fmt, path, size=size)
        upload = Upload.objects.create(
            owner=owner,
            original_name=shown_name,
            file=stored_name,
            size_bytes=size,
            sha256=sha256,
            source_format=fmt,
            parse_options=options,
            dataset_name=Path(shown_name).stem[:200] or "Dataset",
        )
    except BaseException:
        files_delete([stored_name])
        raise
    logger.info("upload %s stored (%d bytes)", upload.pk, size)
    metrics.upload_recorded(size_bytes=size)
    return upload


@metrics.counts_upload_refusals("confirm")
def upload_confirm(*, upload: Upload, options: dict, dataset_name: str, enqueue: bool = True) -> Upload:
    """Record the user's parse settings (a CSV's options, a workbook's sheet) and queue the full parse (the
    command line runs it itself)."""
    if upload.status not in {Upload.Status.AWAITING_CONFIRMATION, Upload.Status.FAILED}:
        raise ValidationError("This file is already being parsed.", code="state")
    kept = confirmed_options(upload, stored_local_path(upload.file), options)
    with transaction.atomic():
        changed = Upload.objects.filter(
            pk=upload.pk, status__in=[Upload.Status.AWAITING_CONFIRMATION, Upload.Status.FAILED]
        ).update(
            parse_options=kept,
            dataset_name=dataset_name,
            status=Upload.Status.QUEUED,
            progress=0.0,
            error="",
        )
        if not changed:
            raise ValidationError("This file is already being parsed.", code="state")
        if enqueue:
            task_enqueue_on_commit("upload_ingest_task", upload.pk)
    upload.refresh_from_db()
    return upload


def upload_discard(*, upload: Upload) -> None:
    """Forget an upload that did not become a dataset, with its file."""
    if upload.dataset_id is not None or upload.is_in_progress:
        raise ValidationError("This upload is in use and cannot be discarded.", code="state")
    name = upload.file.name
    upload.delete()
    transaction.on_commit(lambda: files_delete([name]))
