"""Cleaning: preview a step, apply it as a new version (atomically, one winner), go back to a version."""

import logging
from dataclasses import dataclass

import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from csv_processor import metrics
from csv_processor.ml.cleaning.fitting import fit_step
from csv_processor.ml.cleaning.ops import apply_step
from csv_processor.ml.cleaning.preview import StepPreview, preview_step
from csv_processor.ml.cleaning.schema import CleaningError
from csv_processor.ml.cleaning.step import Step
from csv_processor.ml.types import infer_column_types
from csv_processor.models import CleaningJob, Dataset, DatasetVersion
from csv_processor.selectors.datasets import dataset_version_frame
from csv_processor.services.jobs.queue import task_enqueue_on_commit
from csv_processor.storage import (
    StoredFileMissing,
    StoreUnavailable,
    file_name_new,
    files_delete,
    stored_size,
    stored_write,
)
from users.models import User

logger = logging.getLogger(__name__)

CONFLICT_MESSAGE = (
    "This dataset changed since you opened it (another change was applied). Reload the page and try again."
)


class CleaningConflict(ValidationError):
    """Someone else changed the dataset first."""


@dataclass(frozen=True)
class CleaningPreview:
    """A fitted step (as stored) and what it would do to the data."""

    step: dict
    effect: StepPreview


def _fit(frame: pd.DataFrame, op: str, params: dict) -> Step:
    try:
        return fit_step(frame, op, params)
    except CleaningError as exc:
        raise ValidationError(str(exc), code="params") from exc


def cleaning_preview(*, version: DatasetVersion, op: str, params: dict) -> CleaningPreview:
    """What the step would do to this version, without writing anything."""
    frame = dataset_version_frame(version=version)
    step = _fit(frame, op, params)
    try:
        preview = preview_step(frame, step)
    except CleaningError as exc:
        raise ValidationError(str(exc), code="params") from exc
    # As an upload with no data rows is refused, so is a change that would leave no rows or no columns.
    if preview.rows_after == 0 or preview.columns_after == 0:
        emptied = "row" if preview.rows_after == 0 else "column"
        raise ValidationError(f"This would remove every {emptied}; a dataset must keep at least one.", code="empty")
    return CleaningPreview(step=step.to_dict(), effect=preview)


def cleaning_job_create(
    *, owner: User, version: DatasetVersion, op: str, params: dict, confirm_loss: bool
) -> CleaningJob:
    """Check the step against the data and run it: in this request for small data, else in the worker."""
    dataset = version.dataset
    if dataset.current_version_id != version.pk:
        raise CleaningConflict(CONFLICT_MESSAGE, code="conflict")
    preview = cleaning_preview(version=version, op=op, params=params)
    if preview.effect.needs_confirmation and not confirm_loss:
        raise ValidationError(
            f"This would turn {preview.effect.values_lost} values into missing values. "
            "Tick “I understand” to go ahead.",
            code="confirm",
        )
    fields = {"owner": owner, "dataset": dataset, "base_version": version, "step": preview.step}
    fields["description"] = preview.effect.description
    if version.row_count <= settings.SYNC_CLEAN_MAX_ROWS:
        return _create_and_apply(fields)
    job = CleaningJob.objects.create(**fields)
    task_enqueue_on_commit("cleaning_job_execute_task", job.pk)
    return job


def _create_and_apply(fields: dict) -> CleaningJob:
    """The job, its step and the new version in one transaction: a database lost midway leaves no job
    stuck "running" and no version without its job, only an error (and the Parquet file is removed)."""
    written: list[str] = []
    try:
        with transaction.atomic():
            job = CleaningJob.objects.create(**fields)
            return cleaning_job_execute(job_id=job.pk, written=written) or job
    except DatabaseError:
        files_delete(written)
        raise


def cleaning_job_execute(*, job_id: int, written: list[str] | None = None) -> CleaningJob | None:
    """Apply a queued job's step; idempotent (a job runs once). Conflicts and data errors fail the job.

    `written` collects the stored file's name, for a caller whose transaction may still roll back."""
    claimed = CleaningJob.claim(job_id)
    if not claimed:
        return None
    job = CleaningJob.objects.select_related("base_version", "dataset").get(pk=job_id)
    try:
        _apply(job, written if written is not None else [])
    except (CleaningError, CleaningConflict, ValidationError, StoredFileMissing, StoreUnavailable) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else _message(exc)
        CleaningJob.objects.filter(pk=job_id).update(
            status=CleaningJob.Status.FAILED, error=message, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def _message(exc: Exception) -> str:
    if isinstance(exc, StoredFileMissing):
        return "The version's data file is missing from storage; this step cannot be applied."
    if isinstance(exc, StoreUnavailable):
        return "The file store could not be reached. Apply the step again in a few minutes."
    return str(exc)


def _apply(job: CleaningJob, written: list[str]) -> DatasetVersion:
    step = Step.from_dict(job.step)
    result = apply_step(dataset_version_frame(version=job.base_version), step)
    name = file_name_new(folder="versions", suffix=".parquet")
    written.append(name)
    with stored_write(name) as path:
        result.to_parquet(path, index=False, row_group_size=65_536)
    try:
        version = _record_version(job, step, result, name)
    except (CleaningConflict, IntegrityError) as exc:
        files_delete([name])
        raise CleaningConflict(CONFLICT_MESSAGE, code="conflict") from exc
    except BaseException:
        files_delete([name])
        raise
    logger.info("dataset %s: %s -> version %s", job.dataset_id, step.op, version.number)
    metrics.cleaning_operation_applied(operation=step.op)
    return version


def _record_version(job: CleaningJob, step: Step, result: pd.DataFrame, name: str) -> DatasetVersion:
    base = job.base_version
    with transaction.atomic():
        number = (DatasetVersion.objects.filter(dataset_id=job.dataset_id).aggregate(n=Max("number"))["n"] or 0) + 1
        version = DatasetVersion.objects.create(
            dataset_id=job.dataset_id,
            parent=base,
            number=number,
            file=name,
            size_bytes=stored_size(name),
            row_count=len(result),
            column_count=result.shape[1],
            schema=[column.to_dict() for column in infer_column_types(result)],
            produced_by={
                "kind": "clean",
                "step": step.to_dict(),
                "description": step.describe(),
                "training_only": step.training_only,
                "job_id": job.pk,
            },
        )
        # Only one change can move the dataset on from `base`: the loser's update matches no row.
        moved = Dataset.objects.filter(pk=job.dataset_id, current_version=base).update(
            current_version=version, updated_at=timezone.now()
        )
        if not moved:
            raise CleaningConflict(CONFLICT_MESSAGE, code="conflict")
        # In the same transaction: a version never exists without its job marked done.
        CleaningJob.objects.filter(pk=job.pk).update(
            status=CleaningJob.Status.SUCCEEDED, result_version=version, finished_at=timezone.now()
        )
        task_enqueue_on_commit("dataset_version_profile_task", version.pk)
    return version


def dataset_version_restore(*, dataset: Dataset, number: int) -> DatasetVersion:
    """Make an earlier (or later) version current again; nothing is deleted."""
    version = dataset.versions.filter(number=number).first()
    if version is None:
        raise ValidationError("No such version.", code="missing")
    Dataset.objects.filter(pk=dataset.pk).update(current_version=version, updated_at=timezone.now())
    dataset.refresh_from_db()
    return version


def suggestion_dismiss(*, dataset: Dataset, column: str, action: str) -> Dataset:
    key = f"{column}\x1f{action}"
    if key not in dataset.dismissed_suggestions:
        dataset.dismissed_suggestions = [*dataset.dismissed_suggestions, key]
        dataset.save(update_fields=["dismissed_suggestions", "updated_at"])
    return dataset
