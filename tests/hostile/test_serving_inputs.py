"""Hostile input to a deployed model: request bodies for the prediction API, MLflow's scoring endpoint and
feedback, and batch-prediction files. One trained model serves the whole module."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from csv_processor.models import BatchPrediction, Prediction
from csv_processor.services.serving.batch import batch_prediction_execute
from tests.hostile.bodies import BODIES, HostileBody
from tests.hostile.checks import Snapshot, assert_clear_message, shown_errors
from tests.hostile.corpus import CASES, REFUSED

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]

URL_NAMES = {"predict": "predict", "invocations": "invocations", "feedback": "feedback"}


def _post(client, served, body: HostileBody, payload: bytes):
    url = reverse(f"csv_processor_api:{URL_NAMES[body.endpoint]}", args=[served.model.pk])
    # CONTENT_TYPE again: the test client drops the header of an empty body, a real client may not.
    return client.post(
        url,
        data=payload,
        content_type=body.content_type,
        CONTENT_TYPE=body.content_type,
        HTTP_AUTHORIZATION=f"Token {served.token}",
    )


def _messages(data: object) -> list[str]:
    """Every text in an error body except MLflow's machine-readable error code."""
    if isinstance(data, dict):
        return [m for key, value in data.items() if key != "error_code" for m in _messages(value)]
    if isinstance(data, list):
        return [m for item in data for m in _messages(item)]
    return [data] if isinstance(data, str) else []


def _logged_prediction_id(client, served) -> str:
    url = reverse("csv_processor_api:predict", args=[served.model.pk])
    body = {"records": [{"x1": 0.5, "x2": 0.1, "colour": "red"}]}
    response = client.post(url, data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {served.token}")
    return response.json()["prediction_ids"][0]


@pytest.mark.parametrize("name", list(BODIES))
def test_hostile_body(name, client, served, settings):
    settings.PREDICTION_LOG_SAMPLE = 1.0
    body = BODIES[name]
    payload = body.body
    if b"{pid}" in payload:
        payload = payload.replace(b"{pid}", _logged_prediction_id(client, served).encode())
    logged = Prediction.objects.count()

    response = _post(client, served, body, payload)

    assert response.status_code < 500
    assert response.status_code in body.statuses, response.content[:500]
    data = json.loads(response.content)
    if response.status_code >= 400:
        messages = _messages(data)
        assert messages, data
        for message in messages:
            assert_clear_message(message)
        assert_clear_message(" ".join(messages), body.says)
        assert Prediction.objects.count() == logged
    elif body.endpoint != "feedback":
        assert len(data["predictions"]) >= 1
        assert Prediction.objects.count() > logged


def test_feedback_that_cannot_be_stored_leaves_the_prediction_as_it_was(client, served, settings):
    settings.PREDICTION_LOG_SAMPLE = 1.0
    pid = _logged_prediction_id(client, served)
    good = _post(client, served, BODIES["feedback: unknown id is listed, not an error"], _feedback_body(pid, '"yes"'))

    refused = [
        _post(client, served, BODIES["feedback: actual with a NUL"], _feedback_body(pid, '"n\\u0000o"')),
        _post(client, served, BODIES["feedback: actual lone surrogate"], _feedback_body(pid, '"\\udc00"')),
    ]

    assert good.json() == {"updated": 1, "unknown": []}
    assert [response.status_code for response in refused] == [400, 400]
    assert Prediction.objects.get(public_id=pid).actual == "yes"


def _feedback_body(pid: str, actual_json: str) -> bytes:
    return ('{"feedback": [{"prediction_id": "' + pid + '", "actual": ' + actual_json + "}]}").encode()


# --- batch prediction files ---------------------------------------------------------------------------

REFUSED_FILES = [name for name, case in CASES.items() if case.outcome == REFUSED and case.sync_parse_max_bytes is None]


def _post_batch(client, served, filename: str, body: bytes):
    url = reverse("csv_processor:batch-create", args=[served.model.pk])
    return client.post(url, {"file": SimpleUploadedFile(filename, body, content_type="text/csv")})


@pytest.mark.parametrize("name", REFUSED_FILES)
def test_hostile_batch_file_is_refused_with_a_message(name, client, served, media_root):
    client.force_login(served.user)
    case = CASES[name]
    before = Snapshot.take(media_root)

    response = _post_batch(client, served, case.filename, case.build())

    assert response.status_code == 400
    errors = shown_errors(response.content)
    assert len(errors) == 1, errors
    assert_clear_message(errors[0], case.says)
    before.assert_unchanged(media_root)


def test_batch_without_a_file_says_so(client, served, media_root):
    client.force_login(served.user)
    before = Snapshot.take(media_root)

    response = client.post(reverse("csv_processor:batch-create", args=[served.model.pk]), {})

    assert response.status_code == 400
    assert_clear_message(" ".join(shown_errors(response.content)), ("required",))
    before.assert_unchanged(media_root)


def _batch_done(client, served, filename: str, body: bytes) -> BatchPrediction:
    client.force_login(served.user)
    response = _post_batch(client, served, filename, body)
    assert response.status_code == 302, shown_errors(response.content)
    batch = BatchPrediction.objects.latest("pk")
    return batch_prediction_execute(batch_id=batch.pk)


def test_batch_with_formulas_and_markup_predicts_and_downloads_defused(client, served):
    body = (
        b"x1,x2,colour,note\n"
        b"1,0.5,red,\"=cmd|' /C calc'!A0\"\n"
        b"-1,0.2,blue,<script>alert(1)</script>\n"
        b'0.3,0.1,=HYPERLINK("x"),@SUM(1)\n'
    )

    batch = _batch_done(client, served, "../../<script>x</script>.csv", body)

    assert batch.status == BatchPrediction.Status.SUCCEEDED, batch.error
    page = client.get(reverse("csv_processor:batch-detail", args=[batch.pk])).content.decode()
    assert "<script>x</script>" not in page
    download = client.get(reverse("csv_processor:batch-download", args=[batch.pk]))
    assert "/" not in download["Content-Disposition"].split("filename", 1)[1]
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert [row["note"] for row in rows] == ["'=cmd|' /C calc'!A0", "<script>alert(1)</script>", "'@SUM(1)"]
    assert rows[2]["colour"] == '\'=HYPERLINK("x")'
    assert {row["prediction"] for row in rows} <= {"yes", "no"}


def test_batch_missing_the_model_columns_fails_with_the_names(client, served, media_root):
    batch = _batch_done(client, served, "other.csv", b"a,b\n1,2\n")

    assert batch.status == BatchPrediction.Status.FAILED
    assert_clear_message(batch.error, ("x1", "x2", "colour"))
    assert not batch.result_file
