"""Stored files in an S3 bucket: a real server speaking the S3 protocol over HTTP (moto's standalone server).

The whole journey runs through the real services and views with STORAGES pointing at the bucket, and
nothing but the read-through cache may appear on local disk. Then the store's faults: unreachable (503,
nothing half-written, /readyz says so) and an object deleted behind the app's back (410, not a 500).
"""

import io
from pathlib import Path

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csv_processor.models import BatchPrediction, Dataset, TrainedModel, TrainingRun, Upload
from csv_processor.selectors.datasets import dataset_version_page
from csv_processor.services.cleaning.jobs import cleaning_job_create
from csv_processor.services.datasets.ingest import upload_ingest
from csv_processor.services.datasets.uploads import upload_confirm
from csv_processor.services.serving.batch import batch_prediction_execute
from csv_processor.services.serving.deploy import deployed_model_deploy
from csv_processor.services.training.execute import training_run_execute
from csv_processor.storage import StoredFileMissing, parquet_file, stored_local_path
from tests.csv_processor.helpers import (
    UNREACHABLE_MLFLOW,
    classification_csv,
    free_port,
    queue_run,
    s3_bucket_use,
    s3_storages,
)
from tests.factories import DatasetVersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh bucket, and STORAGES pointing at it (the default storage is rebuilt on the change)."""
    client, name = s3_bucket_use(s3_endpoint, settings)
    settings.MLFLOW_TRACKING_URI = UNREACHABLE_MLFLOW
    return client, name


def _keys(bucket) -> set[str]:
    client, name = bucket
    return {item["Key"] for item in client.list_objects_v2(Bucket=name).get("Contents", [])}


def _local_files(media_root: Path) -> list[Path]:
    return [path for path in media_root.rglob("*") if path.is_file()]


def _unreachable(settings) -> None:
    port = free_port()  # nothing listens there
    settings.STORAGES = s3_storages(f"http://127.0.0.1:{port}", "gone")


@pytest.mark.slow
def test_whole_journey_keeps_every_file_in_the_bucket(user, user_client, bucket, media_root, settings):
    # Upload, confirm, parse.
    response = user_client.post(
        reverse("csv_processor:upload-new"), {"file": SimpleUploadedFile("data.csv", classification_csv(300))}
    )
    upload = Upload.objects.get(owner=user)
    upload_confirm(upload=upload, options=upload.parse_options, dataset_name="d", enqueue=False)
    Upload.objects.filter(pk=upload.pk).update(status=Upload.Status.QUEUED)
    done = upload_ingest(upload_id=upload.pk)
    dataset = Dataset.objects.get(owner=user)
    version = dataset.current_version
    # A page, then a cleaning step (applied in the request: the table is small).
    page = user_client.get(reverse("csv_processor:dataset-detail", args=[dataset.pk]), {"page": 2})
    job = cleaning_job_create(
        owner=user, version=version, op="drop_columns", params={"columns": ["x2"]}, confirm_loss=False
    )
    dataset.refresh_from_db()
    # Train, deploy, predict one record and a batch, download it.
    run = training_run_execute(run_id=queue_run(user, dataset.current_version, algorithms=["LogisticRegression"]).pk)
    model = deployed_model_deploy(owner=user, run=run, name="m")
    predicted = user_client.post(
        reverse("csv_processor:model-predict", args=[model.pk]), {"x1": "1", "colour": "red"}, HTTP_HX_REQUEST="true"
    )
    rows = pd.DataFrame({"id": [1, 2], "x1": [2.0, -2.0], "colour": ["red", "blue"]})
    user_client.post(
        reverse("csv_processor:batch-create", args=[model.pk]),
        {"file": SimpleUploadedFile("new.csv", rows.to_csv(index=False).encode())},
    )
    batch = batch_prediction_execute(batch_id=BatchPrediction.objects.get(owner=user).pk)
    download = user_client.get(reverse("csv_processor:batch-download", args=[batch.pk]))
    parquet = user_client.get(reverse("csv_processor:dataset-download-parquet", args=[dataset.pk, 1]))

    assert response.status_code == 302
    assert done.status == Upload.Status.SUCCEEDED, done.error
    assert page.status_code == 200
    assert "51" in page.content.decode()
    assert job.status == "succeeded", job.error
    assert dataset.current_version.number == 2
    assert run.status == TrainingRun.Status.SUCCEEDED, run.error
    assert predicted.status_code == 200
    assert "Prediction:" in predicted.content.decode()
    assert batch.status == BatchPrediction.Status.SUCCEEDED, batch.error
    assert len(pd.read_csv(io.BytesIO(b"".join(download.streaming_content)))) == 2
    assert len(pd.read_parquet(io.BytesIO(b"".join(parquet.streaming_content)))) == 300
    model_file = TrainedModel.objects.get(run=run).file.name
    stored = {
        upload.file.name,
        version.file.name,
        dataset.current_version.file.name,
        model_file,
        batch.file.name,
        batch.result_file.name,
    }
    assert {f"tenant-a/{name}" for name in stored} <= _keys(bucket)
    cache = media_root / ".store-cache"
    assert all(cache in path.parents for path in _local_files(media_root)), _local_files(media_root)


def test_a_page_is_read_with_range_requests_not_the_whole_file(bucket, media_root):
    frame = pd.DataFrame({"n": range(300_000), "text": [f"row {i}" for i in range(300_000)]})
    version = DatasetVersionFactory(frame=frame)
    # The factory's write left a cached copy; a second host would not have one.
    for path in _local_files(media_root):
        path.unlink()

    opened = parquet_file(version.file)
    table = dataset_version_page(version=version, page=5000)

    assert not isinstance(opened.reader, type(None))
    assert table.rows[0][0].text == str(4999 * 50)
    assert _local_files(media_root) == []  # read from the bucket, nothing downloaded whole


def test_upload_with_the_store_unreachable_answers_503_and_keeps_nothing(
    user, user_client, bucket, settings, media_root
):
    _unreachable(settings)

    response = user_client.post(
        reverse("csv_processor:upload-new"), {"file": SimpleUploadedFile("data.csv", classification_csv(20))}
    )

    assert response.status_code == 503
    assert "file store cannot be reached" in response.content.decode()
    assert not Upload.objects.filter(owner=user).exists()
    assert _local_files(media_root) == []


def test_readyz_reports_the_store(client, bucket, settings):
    reachable = client.get("/readyz").json()["checks"]["media"]
    _unreachable(settings)
    unreachable = client.get("/readyz")

    assert reachable == "ok"
    assert unreachable.status_code == 503
    assert unreachable.json()["checks"]["media"] == "store unreachable"


def test_a_version_deleted_behind_our_back_answers_410_with_a_message(user, user_client, bucket):
    version = DatasetVersionFactory(dataset__owner=user)
    client, name = bucket
    client.delete_object(Bucket=name, Key=f"tenant-a/{version.file.name}")
    # Another host: no cached copy.
    stored_local_path(version.file).unlink()

    page = user_client.get(reverse("csv_processor:dataset-detail", args=[version.dataset_id]))
    download = user_client.get(reverse("csv_processor:dataset-download-csv", args=[version.dataset_id, 1]))

    assert page.status_code == 410
    assert "missing from the file store" in page.content.decode()
    assert download.status_code == 410
    with pytest.raises(StoredFileMissing):
        stored_local_path(version.file)


def test_a_job_with_the_store_unreachable_fails_with_the_reason(user, bucket, settings):
    version = DatasetVersionFactory(dataset__owner=user, frame=pd.read_csv(io.BytesIO(classification_csv(60))))
    run = queue_run(user, version, target="label", algorithms=["LogisticRegression"])
    for path in (settings.MEDIA_ROOT / ".store-cache").rglob("*"):
        if path.is_file():
            path.unlink()
    _unreachable(settings)

    done = training_run_execute(run_id=run.pk)

    assert done.status == TrainingRun.Status.FAILED
    assert "file store" in done.error
