"""Reads for csv_processor. An id from a URL reaches an object only through a `*_get_for_user` here."""

import math
from dataclasses import dataclass

from django.db.models import Max, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from csv_processor.models import Dataset, DatasetVersion, Upload, WorkerHeartbeat

PAGE_ROWS = 50
CELL_CHARS = 200


@dataclass(frozen=True)
class Cell:
    text: str
    missing: bool = False
    numeric: bool = False


@dataclass(frozen=True)
class TableView:
    columns: list[dict]
    rows: list[list[Cell]]
    total_rows: int
    offset: int
    error: str = ""

    @property
    def page_count(self) -> int:
        return max(1, math.ceil(self.total_rows / PAGE_ROWS))


def worker_last_seen_seconds() -> float | None:
    """Seconds since any worker last reported, or None if none ever did."""
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen_at"))["last"]
    if last_seen is None:
        return None
    return (timezone.now() - last_seen).total_seconds()


def user_storage_used(*, user: object) -> int:
    uploads = Upload.objects.filter(owner=user).aggregate(total=Sum("size_bytes"))["total"] or 0
    versions = DatasetVersion.objects.filter(dataset__owner=user).aggregate(total=Sum("size_bytes"))["total"] or 0
    return uploads + versions


def dataset_list(*, user: object) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user).select_related("current_version")


def dataset_get_for_user(*, user: object, dataset_id: int) -> Dataset:
    dataset = Dataset.objects.filter(owner=user, pk=dataset_id).select_related("current_version").first()
    if dataset is None:
        raise Http404("No such dataset.")
    return dataset


def dataset_version_get_for_user(*, user: object, dataset_id: int, number: int | None = None) -> DatasetVersion:
    dataset = dataset_get_for_user(user=user, dataset_id=dataset_id)
    if number is None:
        if dataset.current_version is None:
            raise Http404("This dataset has no version yet.")
        return dataset.current_version
    version = dataset.versions.filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


def upload_get_for_user(*, user: object, upload_id: int) -> Upload:
    upload = Upload.objects.filter(owner=user, pk=upload_id).first()
    if upload is None:
        raise Http404("No such upload.")
    return upload
