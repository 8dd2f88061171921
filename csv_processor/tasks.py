"""Background entrypoints: each takes ids and calls one service."""

from django_tasks import task

from csv_processor.services.datasets import dataset_version_profile_compute
from csv_processor.services.ingest import upload_ingest


@task()
def upload_ingest_task(upload_id: int) -> None:
    upload_ingest(upload_id=upload_id)


@task()
def dataset_version_profile_task(version_id: int) -> None:
    dataset_version_profile_compute(version_id=version_id)
