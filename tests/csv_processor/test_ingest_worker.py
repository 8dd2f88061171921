"""Upload to dataset through a real worker process, as in production."""

import pytest
from django.urls import reverse

from csv_processor.models import Dataset, DatasetVersion, Upload
from tests.conftest import wait_for
from tests.csv_processor.helpers import post_upload


@pytest.mark.slow
def test_upload_is_parsed_and_profiled_by_the_worker(worker_process, client, user):
    client.force_login(user)
    body = b"city,temp\n" + b"".join(f"c{i % 7},{i % 40}.5\n".encode() for i in range(5000))
    post_upload(client, "temps.csv", body)
    upload = Upload.objects.get()
    form = {**upload.parse_options, "dataset_name": "Temps", "has_header": "on", "thousands": "", "na_values": ""}
    form = {key: value for key, value in form.items() if not isinstance(value, bool | list)} | {"has_header": "on"}

    client.post(reverse("csv_processor:upload-confirm", args=[upload.pk]), form)

    dataset = wait_for(lambda: Dataset.objects.filter(name="Temps").first(), timeout=60)
    version = wait_for(
        lambda: DatasetVersion.objects.filter(pk=dataset.current_version_id, profile_status="ready").first(),
        timeout=60,
    )
    assert version.row_count == 5000
    assert version.profile["rows"] == 5000
    upload.refresh_from_db()
    assert upload.status == Upload.Status.SUCCEEDED
    assert upload.progress == 1.0
