"""`/api/models/{id}/invocations`: MLflow's scoring-server protocol, checked request by request, and
MLflow's own ScoringServerClient against a real server."""

import json
from urllib.parse import urlparse

import pandas as pd
import pytest
from django.urls import reverse
from mlflow.pyfunc.scoring_server.client import ScoringServerClient

from tests.csv_processor.helpers import record

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = pytest.mark.served_media


def invoke(client, served, body, content_type="application/json", token=None):
    url = reverse("csv_processor_api:invocations", args=[served.model.pk])
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type, HTTP_AUTHORIZATION=f"Token {token or served.token}")


ROWS = [record(x1=2.0, colour="red"), record(x1=-2.0, colour="blue")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_split": {"columns": ["x1", "x2", "colour"], "data": [[2.0, 0.1, "red"], [-2.0, 0.1, "blue"]]}},
        {"dataframe_records": ROWS},
        {"instances": ROWS},
        {"inputs": {"x1": [2.0, -2.0], "x2": [0.1, 0.1], "colour": ["red", "blue"]}},
        {"inputs": ROWS, "params": {"anything": 1}},
    ],
    ids=["split", "records", "instances", "inputs-columns", "inputs-params"],
)
def test_invocations_accepts_every_json_format(client, served, body):
    response = invoke(client, served, body)

    assert response.status_code == 200, response.content
    assert response.json() == {"predictions": ["yes", "no"]}


@pytest.mark.django_db
def test_invocations_accepts_a_csv_body(client, served):
    body = pd.DataFrame(ROWS).to_csv(index=False)

    response = invoke(client, served, body, content_type="text/csv")

    assert response.status_code == 200, response.content
    assert response.json() == {"predictions": ["yes", "no"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"dataframe_records": ROWS, "instances": ROWS},
        {"records": ROWS},
        {"dataframe_split": {"columns": ["x1"], "data": [[1.0, 2.0]]}},
        {"dataframe_records": [{"x1": 1.0}]},
        {"dataframe_records": [record(x1="abc")]},
    ],
    ids=["two-formats", "no-format", "ragged-split", "missing-column", "wrong-type"],
)
def test_invocations_errors_are_mlflow_shaped_400s(client, served, body):
    response = invoke(client, served, body)

    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert response.json()["message"]


@pytest.mark.django_db
def test_invocations_unsupported_content_type_is_415(client, served):
    response = invoke(client, served, b"<x/>", content_type="application/xml")

    assert response.status_code == 415
    assert set(response.json()) == {"error_code", "message"}


@pytest.mark.django_db
def test_invocations_reads_nan_as_missing_but_refuses_infinity(client, served):
    nan = '{"dataframe_split": {"columns": ["x1", "x2", "colour"], "data": [[NaN, 0.1, "red"]]}}'
    inf = '{"dataframe_split": {"columns": ["x1", "x2", "colour"], "data": [[Infinity, 0.1, "red"]]}}'

    assert invoke(client, served, nan).status_code == 200
    assert invoke(client, served, inf).status_code == 400


@pytest.mark.django_db
def test_invocations_of_another_users_model_is_404(client, served):
    response = invoke(client, served, {"dataframe_records": ROWS}, token=served.other_token)

    assert response.status_code == 404
    assert response.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.django_db(transaction=True)
def test_mlflow_scoring_server_client_round_trip(live_server, served, tmp_path, monkeypatch):
    # ScoringServerClient sends no custom headers; requests adds Basic credentials from a netrc file,
    # which the invocations endpoint takes as <any name>:<API token>.
    address = urlparse(live_server.url)
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine {address.hostname} login token password {served.token}\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = ScoringServerClient(address.hostname, f"{address.port}/api/models/{served.model.pk}")

    client.wait_server_ready(timeout=10)
    response = client.invoke(pd.DataFrame(ROWS))

    assert response.get_predictions()[0].tolist() == ["yes", "no"]
    with pytest.raises(Exception, match="error code 400"):
        client.invoke(pd.DataFrame([{"x1": 1.0}]))


@pytest.mark.django_db
def test_ping_answers_the_owner_only_and_invocations_need_credentials(client, served):
    url = reverse("csv_processor_api:ping", args=[served.model.pk])

    mine = client.get(url, HTTP_AUTHORIZATION=f"Token {served.token}")
    theirs = client.get(url, HTTP_AUTHORIZATION=f"Token {served.other_token}")
    anonymous = client.post(
        reverse("csv_processor_api:invocations", args=[served.model.pk]),
        data=json.dumps({"dataframe_records": ROWS}),
        content_type="application/json",
    )

    assert mine.status_code == 200
    assert theirs.status_code == 404
    assert anonymous.status_code == 401
    assert anonymous.json()["error_code"] == "UNAUTHENTICATED"
