"""Import a local CSV file as a dataset in one go: the command-line face of the upload flow."""

from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ValidationError

from csv_processor.models import Dataset, Upload
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.manage import dataset_version_profile_compute
from csv_processor.services.datasets.uploads import upload_confirm, upload_create
from users.models import User


def dataset_import_file(
    *,
    owner: User,
    path: Path,
    name: str | None = None,
    options: dict | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> Dataset:
    """Upload, confirm (with detected or given parse options), parse and profile a file; same checks as the web."""
    with path.open("rb") as handle:
        upload = upload_create(owner=owner, uploaded_file=handle, name=path.name, size=path.stat().st_size)
    merged = {**upload.parse_options, **(options or {})}
    upload = upload_confirm(upload=upload, options=merged, dataset_name=name or upload.dataset_name, enqueue=False)
    ingested = upload_ingest(upload_id=upload.pk, on_progress=on_progress)
    if ingested is None or ingested.status != Upload.Status.SUCCEEDED:
        message = ingested.error if ingested is not None else "The upload was taken by another worker."
        raise ValidationError(message, code="parse")
    # The ingest made the dataset from this upload, with the parse as its current version.
    dataset = Dataset.objects.get(source_upload=ingested)
    if dataset.current_version_id is not None:
        dataset_version_profile_compute(version_id=dataset.current_version_id)
    return dataset
