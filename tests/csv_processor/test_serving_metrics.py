"""Predictions through each channel move csva_predictions_total, rows and latency with the model's id."""

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from prometheus_client import REGISTRY

from csv_processor.models import BatchPrediction
from csv_processor.services.serving.batch import batch_prediction_execute
from tests.csv_processor.helpers import record

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]


def counts(model_id: int, channel: str) -> tuple[float, float, float]:
    labels = {"model_id": str(model_id), "channel": channel}
    return (
        REGISTRY.get_sample_value("csva_predictions_total", labels) or 0.0,
        REGISTRY.get_sample_value("csva_prediction_rows_total", labels) or 0.0,
        REGISTRY.get_sample_value("csva_prediction_latency_seconds_count", {"channel": channel}) or 0.0,
    )


def test_a_batch_file_counts_one_batch_prediction_with_its_rows(client, served):
    client.force_login(served.user)
    rows = pd.DataFrame({"x1": [2.0, -2.0, 0.5], "x2": [0.1, 0.2, 0.3], "colour": ["red", "blue", "red"]})
    before = counts(served.model.pk, "batch")

    client.post(
        reverse("csv_processor:batch-create", args=[served.model.pk]),
        {"file": SimpleUploadedFile("new.csv", rows.to_csv(index=False).encode())},
    )
    done = batch_prediction_execute(batch_id=BatchPrediction.objects.get(deployed_model=served.model).pk)

    assert done.status == BatchPrediction.Status.SUCCEEDED, done.error
    assert counts(served.model.pk, "batch") == (before[0] + 1, before[1] + 3, before[2] + 1)


def test_form_and_api_predictions_count_under_their_channels(client, served):
    client.force_login(served.user)
    form_before, api_before = counts(served.model.pk, "form"), counts(served.model.pk, "api")

    form = client.post(reverse("csv_processor:model-predict", args=[served.model.pk]), record())
    api = client.post(
        reverse("csv_processor_api:predict", args=[served.model.pk]),
        {"records": [record(), record(x1=-1.0)]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {served.token}",
    )

    assert (form.status_code, api.status_code) == (200, 200), api.content[:300]
    assert counts(served.model.pk, "form") == (form_before[0] + 1, form_before[1] + 1, form_before[2] + 1)
    assert counts(served.model.pk, "api") == (api_before[0] + 1, api_before[1] + 2, api_before[2] + 1)
