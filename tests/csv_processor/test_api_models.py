"""The models REST API: list, detail, predict, feedback; permissions, validation and limits."""

import json

import pytest
from django.urls import reverse

from csv_processor.models import Prediction
from csv_processor.services.serving.rate import predict_rate_reset
from tests.csv_processor.helpers import record

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = [pytest.mark.django_db, pytest.mark.served_media]


def api(client, method, url, token, body=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Token {token}"} if token else {}
    if body is None:
        return getattr(client, method)(url, **headers, **extra)
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(client, method)(
        url, data=data, content_type=extra.pop("content_type", "application/json"), **headers, **extra
    )


def predict_url(model_id: int) -> str:
    return reverse("csv_processor_api:predict", args=[model_id])


def test_model_list_shows_only_own_models(client, served):
    mine = api(client, "get", reverse("csv_processor_api:model-list"), served.token)
    theirs = api(client, "get", reverse("csv_processor_api:model-list"), served.other_token)

    assert mine.status_code == 200
    assert [m["id"] for m in mine.json()] == [served.model.pk]
    assert mine.json()[0]["ready"] is True
    assert theirs.json() == []


def test_model_detail_has_input_schema_metrics_and_versions(client, served):
    response = api(client, "get", reverse("csv_processor_api:model-detail", args=[served.model.pk]), served.token)

    body = response.json()
    assert response.status_code == 200
    schema = {f["name"]: f for f in body["input_schema"]}
    assert schema["x1"]["role"] == "numeric"
    assert schema["x1"]["minimum"] < schema["x1"]["maximum"]
    assert set(schema["colour"]["categories"]) == {"red", "green", "blue"}
    assert body["metrics"]["accuracy"] > 0.5
    assert [v["number"] for v in body["versions"]] == [1]
    assert sorted(body["class_labels"]) == ["no", "yes"]


def test_model_detail_of_another_user_is_404(client, served):
    url = reverse("csv_processor_api:model-detail", args=[served.model.pk])

    assert api(client, "get", url, served.other_token).status_code == 404
    assert api(client, "get", url, None).status_code == 401


def test_predict_returns_predictions_probabilities_ids_and_logs(client, served):
    body = {"records": [record(x1=2.0, colour="red"), record(x1=-2.0, colour="blue")]}

    response = api(client, "post", predict_url(served.model.pk), served.token, body)

    out = response.json()
    assert response.status_code == 200, out
    assert out["predictions"] == ["yes", "no"]
    assert out["probabilities"][0]["yes"] > 0.5
    assert out["probabilities"][0]["yes"] + out["probabilities"][0]["no"] == pytest.approx(1)
    assert len(out["prediction_ids"]) == 2
    logged = Prediction.objects.get(public_id=out["prediction_ids"][0])
    assert logged.output["prediction"] == "yes"
    assert logged.inputs["x1"] == 2.0
    assert "explanations" not in out


def test_predict_with_explain_names_the_features_that_pushed_most(client, served):
    body = {"records": [record(x1=3.0, x2=0.0, colour="red")], "explain": True}

    out = api(client, "post", predict_url(served.model.pk), served.token, body).json()

    top = out["explanations"][0]
    assert top[0]["feature"] == "x1"
    assert top[0]["effect"] > 0
    assert {item["feature"] for item in top} <= {"x1", "x2", "colour"}


def test_predict_warns_on_unknown_category_and_far_out_numbers_but_predicts(client, served):
    out = api(
        client, "post", predict_url(served.model.pk), served.token, {"records": [record(x1=500.0, colour="purple")]}
    ).json()

    assert len(out["predictions"]) == 1
    assert any("purple" in w for w in out["warnings"][0])
    assert any("far outside" in w for w in out["warnings"][0])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": [{"x1": 1.0, "colour": "red"}]}, "records[0].x2"),
        ({"records": [record(x1="abc")]}, "records[0].x1"),
        ({"records": [record(x1=True)]}, "records[0].x1"),
        ({"records": [record(colour=["red"])]}, "records[0].colour"),
        ({"records": []}, "records"),
        ({"rows": []}, "records"),
        ({"records": [record()], "explain": "yes"}, "explain"),
    ],
)
def test_predict_rejects_bad_records_with_per_field_messages(client, served, body, field):
    response = api(client, "post", predict_url(served.model.pk), served.token, body)

    assert response.status_code == 400
    assert field in response.json()


def test_predict_rejects_nan_and_infinity(client, served):
    raw = '{"records": [{"x1": NaN, "x2": 1, "colour": "red"}]}'

    response = api(client, "post", predict_url(served.model.pk), served.token, raw)

    assert response.status_code == 400
    assert "NaN" in response.json()["detail"]


def test_predict_rejects_deep_nesting_and_big_bodies(client, served, settings):
    deep = '{"records": [' + "[" * 50 + "]" * 50 + "]}"
    settings.PREDICT_MAX_ROWS = 3

    nested = api(client, "post", predict_url(served.model.pk), served.token, deep)
    settings.PREDICT_MAX_BYTES = 100
    big = api(client, "post", predict_url(served.model.pk), served.token, {"records": [record()] * 3})
    settings.PREDICT_MAX_BYTES = 10_000
    many = api(client, "post", predict_url(served.model.pk), served.token, {"records": [record()] * 4})

    assert nested.status_code == 400
    assert "nested" in nested.json()["detail"]
    assert big.status_code == 413
    assert many.status_code == 400
    assert "At most 3" in many.json()["records"][0]


def test_predict_on_another_users_model_is_404_and_unknown_is_404(client, served):
    assert (
        api(client, "post", predict_url(served.model.pk), served.other_token, {"records": [record()]}).status_code
        == 404
    )
    assert api(client, "post", predict_url(999_999), served.token, {"records": [record()]}).status_code == 404


def test_predict_on_a_model_without_active_version_is_409(client, served):
    from csv_processor.models import DeployedModel

    empty = DeployedModel.objects.create(
        owner=served.user, dataset=served.model.dataset, name="empty", problem_type="binary", target="label"
    )

    response = api(client, "post", predict_url(empty.pk), served.token, {"records": [record()]})

    assert response.status_code == 409


def test_predict_rate_limit_answers_429_with_retry_after(client, served, settings):
    settings.PREDICT_RATE = "2/min"
    predict_rate_reset()

    codes = [api(client, "post", predict_url(served.model.pk), served.token, {"records": [record()]}) for _ in range(3)]

    assert [r.status_code for r in codes] == [200, 200, 429]
    assert int(codes[2]["Retry-After"]) > 0
    assert "throttled" in codes[2].json()["detail"]


def test_predict_works_with_the_session_too(client, served):
    client.force_login(served.user)

    response = client.post(predict_url(served.model.pk), {"records": [record()]}, content_type="application/json")

    assert response.status_code == 200


def test_feedback_records_outcomes_and_live_accuracy_follows(client, served):
    out = api(
        client, "post", predict_url(served.model.pk), served.token, {"records": [record(x1=2.0), record(x1=-2.0)]}
    ).json()
    ids = out["prediction_ids"]
    feedback = {"feedback": [{"prediction_id": ids[0], "actual": "yes"}, {"prediction_id": ids[1], "actual": "yes"}]}

    response = api(
        client, "post", reverse("csv_processor_api:feedback", args=[served.model.pk]), served.token, feedback
    )
    detail = api(client, "get", reverse("csv_processor_api:model-detail", args=[served.model.pk]), served.token).json()

    assert response.status_code == 200
    assert response.json() == {"updated": 2, "unknown": []}
    assert detail["live_quality"]["value"] == pytest.approx(0.5)
    assert detail["live_quality"]["rows"] == 2


def test_feedback_validates_ids_and_ignores_other_models_predictions(client, served):
    url = reverse("csv_processor_api:feedback", args=[served.model.pk])
    stranger = "00000000-0000-4000-8000-000000000000"

    bad = api(client, "post", url, served.token, {"feedback": [{"prediction_id": "nope", "actual": 1}]})
    unknown = api(client, "post", url, served.token, {"feedback": [{"prediction_id": stranger, "actual": 1}]})
    theirs = api(client, "post", url, served.other_token, {"feedback": [{"prediction_id": stranger, "actual": 1}]})

    assert bad.status_code == 400
    assert "feedback" in bad.json()
    assert unknown.json() == {"updated": 0, "unknown": [stranger]}
    assert theirs.status_code == 404


def test_schema_and_swagger_ui_are_served_locally(client):
    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/models/{model_id}/predict" in schema.content
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn" not in docs.content.lower()
