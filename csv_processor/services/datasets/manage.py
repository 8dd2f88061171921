"""Writes on datasets and their versions: rename, delete, profile."""

import logging
from dataclasses import asdict

from django.core.exceptions import ValidationError
from django.db import transaction

from csv_processor.ml.profiling.profile import profile_frame
from csv_processor.ml.types import infer_column_types
from csv_processor.models import Dataset, DatasetVersion, TrainedModel, Upload
from csv_processor.selectors.datasets import dataset_version_frame
from csv_processor.services.cleaning.suggestions import suggestion_model_get
from csv_processor.storage import files_delete

logger = logging.getLogger(__name__)


def dataset_rename(*, dataset: Dataset, name: str, description: str | None = None) -> Dataset:
    name = name.strip()
    if not name:
        raise ValidationError("Give the dataset a name.", code="blank")
    dataset.name = name[:200]
    fields = ["name", "updated_at"]
    if description is not None:
        dataset.description = description.strip()
        fields.append("description")
    dataset.save(update_fields=fields)
    return dataset


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset, its versions and their files, and the uploaded original."""
    names = [version.file.name for version in dataset.versions.all()]
    # Trained models (and the runs that made them) go with the dataset; so do their files.
    trained = TrainedModel.objects.filter(run__dataset_version__dataset=dataset)
    for file, evaluated in trained.values_list("file", "evaluated_file"):
        names += [name for name in (file, evaluated) if name]
    upload: Upload | None = None
    if dataset.source_upload_id is not None:
        upload = Upload.objects.filter(pk=dataset.source_upload_id).first()
    with transaction.atomic():
        Dataset.objects.filter(pk=dataset.pk).update(current_version=None)
        # Versions point at their parents; delete children first.
        for version in dataset.versions.order_by("-number"):
            version.delete()
        dataset.delete()
        if upload is not None:
            names.append(upload.file.name)
            upload.delete()
        transaction.on_commit(lambda: files_delete(names))
    logger.info("dataset deleted with %d files", len(names))


def dataset_version_profile_compute(*, version_id: int) -> DatasetVersion | None:
    """Compute and store the profile of a version; idempotent and safe if the version is gone."""
    claimed = DatasetVersion.objects.filter(
        pk=version_id, profile_status__in=[DatasetVersion.ProfileStatus.PENDING, DatasetVersion.ProfileStatus.FAILED]
    ).update(profile_status=DatasetVersion.ProfileStatus.RUNNING)
    if not claimed:
        return None
    version = DatasetVersion.objects.get(pk=version_id)
    try:
        frame = dataset_version_frame(version=version)
        profile = profile_frame(frame, types=infer_column_types(frame)).to_dict()
        suggestions = [asdict(item) for item in suggestion_model_get().suggest(frame) if item.action != "keep"]
    except (OSError, ValueError, TypeError) as exc:
        logger.warning("profile of version %s failed: %s", version_id, exc)
        DatasetVersion.objects.filter(pk=version_id).update(profile_status=DatasetVersion.ProfileStatus.FAILED)
        raise
    DatasetVersion.objects.filter(pk=version_id).update(
        profile=profile, suggestions=suggestions, profile_status=DatasetVersion.ProfileStatus.READY
    )
    version.refresh_from_db()
    return version
