"""Uploads: take a file in, check it, keep the original, and (after the user confirms) parse it."""

import hashlib
import logging
from pathlib import Path, PurePath
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from csv_processor import metrics
from csv_processor.ml.csv.reader import CsvParseError, ParseOptions, read_csv_sniffed
from csv_processor.ml.csv.sniffing import detect_parse_options, refuse_reason
from csv_processor.models import Upload
from csv_processor.selectors.datasets import user_storage_used
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.storage import file_name_new, files_delete, stored_local_path, stored_write
from users.models import User

logger = logging.getLogger(__name__)

ALLOWED_SUFFIXES = (".csv", ".tsv", ".txt")
HEAD_BYTES = 8192


class QuotaExceeded(ValidationError):
    """The upload would take the user past their storage quota."""


def display_name(raw_name: str) -> str:
    """The browser's file name reduced to its last part, for display only (never a storage path)."""
    name = PurePath(raw_name.replace("\\", "/")).name.strip().replace("\x00", "")
    return name[:255] or "upload.csv"


def _check_name(name: str) -> None:
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError("Choose a .csv, .tsv or .txt file.", code="suffix")


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


def parse_check(path: Path, options: ParseOptions, *, nrows: int | None) -> None:
    """Parse (the start of) a file; ValidationError with the reason in plain words if it does not read."""
    try:
        read_csv_sniffed(path, options, nrows=nrows)
    except CsvParseError as exc:
        raise ValidationError(str(exc), code="parse") from exc
    except UnicodeError as exc:
        raise ValidationError(
            f"The file does not read as {options.encoding}. Choose another encoding.", code="encoding"
        ) from exc


@metrics.counts_upload_refusals("upload")
def upload_create(*, owner: User, uploaded_file: IO[bytes], name: str, size: int) -> Upload:
    """Check and store an uploaded CSV; raise ValidationError with a user-facing message if it is refused."""
    shown_name = display_name(name)
    _check_name(shown_name)
    head = uploaded_file.read(HEAD_BYTES)
    uploaded_file.seek(0)
    reason = refuse_reason(head)
    if reason:
        raise ValidationError(reason, code="content")
    _check_quota(owner, size)
    stored_name = file_name_new(folder="uploads", suffix=".csv")
    try:
        with stored_write(stored_name) as path:
            sha256 = _copy_and_hash(uploaded_file, path)
            options = detect_parse_options(path)
            # Small files are parsed in full now so their errors show at once; big ones in the worker.
            parse_check(path, options, nrows=None if size <= settings.SYNC_PARSE_MAX_BYTES else 1000)
        upload = Upload.objects.create(
            owner=owner,
            original_name=shown_name,
            file=stored_name,
            size_bytes=size,
            sha256=sha256,
            parse_options=options.to_dict(),
            dataset_name=Path(shown_name).stem[:200] or "Dataset",
        )
    except BaseException:
        files_delete([stored_name])
        raise
    logger.info("upload %s stored (%d bytes)", upload.pk, size)
    metrics.upload_recorded(size_bytes=size)
    return upload


def parse_options_from_dict(data: dict) -> ParseOptions:
    """Validated parse options from form or JSON input; ValidationError with the reason otherwise."""
    try:
        return ParseOptions.from_dict(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError(str(exc), code="options") from exc


@metrics.counts_upload_refusals("confirm")
def upload_confirm(*, upload: Upload, options: dict, dataset_name: str, enqueue: bool = True) -> Upload:
    """Record the user's parse settings and queue the full parse (the command line runs it itself)."""
    parsed = parse_options_from_dict(options)
    if upload.status not in {Upload.Status.AWAITING_CONFIRMATION, Upload.Status.FAILED}:
        raise ValidationError("This file is already being parsed.", code="state")
    parse_check(stored_local_path(upload.file), parsed, nrows=1000)
    with transaction.atomic():
        changed = Upload.objects.filter(
            pk=upload.pk, status__in=[Upload.Status.AWAITING_CONFIRMATION, Upload.Status.FAILED]
        ).update(
            parse_options=parsed.to_dict(),
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
