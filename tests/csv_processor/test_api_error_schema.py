"""The OpenAPI schema documents every error status the REST API answers, and each real error answer
(made here with the test client) fits the body and headers documented for its status."""

import json

import jsonschema
import pytest
from django.test import Client

from csv_processor.api.errors import MLFLOW_CODES, MLFLOW_ERROR_CODES
from csv_processor.models import DeployedModel
from csv_processor.services.serving.rate import predict_rate_reset
from tests.csv_processor.helpers import record

ME, MODELS, DETAIL = "/api/me/", "/api/models/", "/api/models/{model_id}/"
PREDICT, INVOCATIONS = "/api/models/{model_id}/predict", "/api/models/{model_id}/invocations"
PING, FEEDBACK = "/api/models/{model_id}/ping", "/api/models/{model_id}/feedback"
RUN = "/api/runs/{run_id}/"
PREDICTING = {"200", "400", "401", "403", "404", "409", "413", "415", "429"}
DOCUMENTED = {
    (ME, "get"): {"200", "401"},
    (MODELS, "get"): {"200", "401"},
    (DETAIL, "get"): {"200", "401", "404"},
    (PREDICT, "post"): PREDICTING,
    (INVOCATIONS, "post"): PREDICTING,
    (PING, "get"): {"200", "401", "404"},
    (FEEDBACK, "post"): {"200", "400", "401", "403", "404", "413", "415"},
    (RUN, "get"): {"200", "401", "404"},
}
# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]

ROWS = [record()]
STRANGER = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def schema() -> dict:
    # The schema view reads no database; the client asks for JSON as a tool would.
    response = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def test_schema_documents_each_endpoints_error_statuses(schema):
    documented = {
        (path, method): set(op["responses"]) for path, ops in schema["paths"].items() for method, op in ops.items()
    }

    assert documented == DOCUMENTED


def test_schema_documents_the_headers_and_a_json_body_of_every_error(schema):
    for (path, method), statuses in DOCUMENTED.items():
        responses = schema["paths"][path][method]["responses"]
        for status in statuses - {"200"}:
            where = f"{method} {path} {status}"
            assert responses[status]["description"], where
            assert "$ref" in responses[status]["content"]["application/json"]["schema"], where
            headers = set(responses[status].get("headers", {}))
            assert headers == {"401": {"WWW-Authenticate"}, "429": {"Retry-After"}}.get(status, set()), where


def test_invocations_document_every_error_in_mlflows_shape(schema):
    responses = schema["paths"][INVOCATIONS]["post"]["responses"]
    codes = schema["components"]["schemas"]["ErrorCodeEnum"]["enum"]

    for status in PREDICTING - {"200"}:
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/MLflowError"
        }
    assert set(codes) == set(MLFLOW_CODES) >= {*MLFLOW_ERROR_CODES.values(), "INVALID_PARAMETER_VALUE"}


# --- Real answers ---------------------------------------------------------------------------------------
# Each case: (documented path, method, the request, the status it must get). A request names the model
# ("own", "empty": no active version, "missing"), the caller ("owner", "other", "none", "bad" token,
# "session" without the CSRF token), the body and its content type, and settings to apply first.


def case(path, method, status, *, model="own", auth="owner", body=None, content_type="application/json", **settings):
    request = {"model": model, "auth": auth, "body": body, "content_type": content_type, "settings": settings}
    return pytest.param(path, method, request, status, id=f"{method}-{path.split('/')[-1] or 'models'}-{status}")


def _common(path, method, body, *, missing=True):
    """The authentication and 404 cases every endpoint shares."""
    cases = [case(path, method, 401, auth="none", body=body), case(path, method, 401, auth="bad", body=body)]
    if "{model_id}" in path:
        cases.append(case(path, method, 404, auth="other", body=body))
        if missing:
            cases.append(case(path, method, 404, model="missing", body=body))
    return cases


def _predicting(path, good, bad_bodies):
    return [
        *[case(path, "post", 400, body=body) for body in bad_bodies],
        case(path, "post", 400, body="{"),
        *_common(path, "post", good),
        case(path, "post", 403, auth="session", body=good),
        case(path, "post", 409, model="empty", body=good),
        case(path, "post", 413, body=good, PREDICT_MAX_BYTES=20),
        case(path, "post", 415, body="records=1", content_type="text/plain"),
        case(path, "post", 429, body=good, PREDICT_RATE="1/min"),
    ]


CASES = [
    *_common(ME, "get", None),
    *_common(MODELS, "get", None),
    *_common(DETAIL, "get", None),
    *_common(PING, "get", None),
    *_predicting(
        PREDICT,
        {"records": ROWS},
        [{"records": "x"}, {"records": ROWS, "explain": "yes"}, {"records": [{"x1": 1.0}]}, {"records": [3]}],
    ),
    *_predicting(
        INVOCATIONS,
        {"dataframe_records": ROWS},
        [{"records": ROWS}, {"inputs": ROWS, "params": 1}, {"dataframe_records": [{"x1": 1.0}]}],
    ),
    *[
        case(FEEDBACK, "post", 400, body=body)
        for body in (
            "{",
            [1],
            {},
            {"feedback": "x"},
            {"feedback": []},
            {"feedback": [{"prediction_id": "nope", "actual": 1}, {"prediction_id": STRANGER, "actual": 1}]},
            {"feedback": ["x"]},
            {"feedback": [None]},
        )
    ],
    *_common(FEEDBACK, "post", {"feedback": [{"prediction_id": STRANGER, "actual": 1}]}),
    case(FEEDBACK, "post", 403, auth="session", body={"feedback": [{"prediction_id": STRANGER, "actual": 1}]}),
    case(FEEDBACK, "post", 413, body={"feedback": [{"prediction_id": STRANGER, "actual": 1}]}, PREDICT_MAX_BYTES=20),
    case(FEEDBACK, "post", 415, body="feedback=1", content_type="text/plain"),
]


def _call(served, path, method, request):
    model_id = {
        "own": lambda: served.model.pk,
        "missing": lambda: 2**31 - 1,
        "empty": lambda: (
            DeployedModel.objects.create(
                owner=served.user, dataset=served.model.dataset, name="empty", problem_type="binary", target="label"
            ).pk
        ),
    }[request["model"]]()
    auth = request["auth"]
    client = Client(enforce_csrf_checks=True)
    if auth == "session":
        client.force_login(served.user)
    token = {"owner": served.token, "other": served.other_token, "bad": "not-a-token"}.get(auth)
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    url = path.replace("{model_id}", str(model_id))
    body = request["body"]
    if method == "get":
        return client.get(url, **headers)
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type=request["content_type"], **headers)


def _documented_body(schema, path, method, status) -> dict:
    documented = schema["paths"][path][method]["responses"][str(status)]
    # The body's schema refers to components: validate it as part of a document that holds them.
    return documented, {**documented["content"]["application/json"]["schema"], "components": schema["components"]}


@pytest.mark.parametrize(("path", "method", "request_", "status"), CASES)
def test_real_error_answers_fit_their_documented_body_and_headers(
    schema,
    served,
    settings,
    path,
    method,
    request_,
    status,
):
    for name, value in request_["settings"].items():
        setattr(settings, name, value)
    predict_rate_reset()
    try:
        response = _call(served, path, method, request_)
        if status == 429:
            response = _call(served, path, method, request_)
    finally:
        predict_rate_reset()

    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    documented, body_schema = _documented_body(schema, path, method, status)
    jsonschema.validate(response.json(), body_schema)
    for header in documented.get("headers", {}):
        assert response[header], header
    if path == INVOCATIONS and response.json()["error_code"] != "INVALID_PARAMETER_VALUE":
        assert response.json()["error_code"] == MLFLOW_ERROR_CODES[status]


def test_documented_error_bodies_refuse_other_shapes(schema):
    """The checks above can fail: a body of another shape does not fit the documented schemas."""
    _, detail = _documented_body(schema, DETAIL, "get", 404)
    _, mlflow = _documented_body(schema, INVOCATIONS, "post", 404)
    _, predict = _documented_body(schema, PREDICT, "post", 400)
    _, feedback = _documented_body(schema, FEEDBACK, "post", 400)

    for body, body_schema in [
        ({"message": "Not found."}, detail),
        ({"detail": "Not found."}, mlflow),
        ({"error_code": "NOT_A_CODE", "message": "x"}, mlflow),
        ({"records[0].x1": "not a list"}, predict),
        ({"feedback": {"0": "x"}}, feedback),
        ({"feedback": [{"prediction_id": ["x"]}]}, feedback),
        ({"records": ["x"]}, feedback),
    ]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, body_schema)
    jsonschema.validate({"records[0].x1": ["Expected a number."]}, predict)
