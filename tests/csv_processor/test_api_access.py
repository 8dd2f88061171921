"""The prediction endpoints' own request handling (csv_processor/api/prediction_dispatch.py): authentication by token,
Basic token or session with CSRF, DRF's error answers, and the rate limit shared across processes."""

import base64
import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from csv_processor.services.serving.rate import predict_rate_check, predict_rate_reset
from tests.conftest import PROJECT_ROOT, _database_url
from tests.csv_processor.helpers import record
from tests.csv_processor.test_api_models import api, predict_url
from tests.factories import UserFactory
from users.services import api_token_create, api_token_revoke

# Every test here uses the module's `served` model and its media folder (tests/conftest.py).
pytestmark = pytest.mark.served_media


@pytest.mark.django_db
def test_predict_refuses_an_unsupported_content_type_with_415(client, served):
    response = api(client, "post", predict_url(served.model.pk), served.token, "records=1", content_type="text/plain")

    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]


@pytest.mark.django_db
def test_predict_with_the_session_needs_the_csrf_token(served):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(served.user)

    response = browser.post(predict_url(served.model.pk), {"records": [record()]}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF Failed")


@pytest.mark.django_db
def test_revoked_tokens_and_inactive_users_get_401_at_once(client, served):
    user = UserFactory()
    token_row, token = api_token_create(user=user, name="short-lived")
    first = api(client, "post", predict_url(served.model.pk), token, {"records": [record()]})
    api_token_revoke(user=user, token_id=token_row.pk)
    revoked = api(client, "post", predict_url(served.model.pk), token, {"records": [record()]})
    _, other_token = api_token_create(user=user, name="second")
    user.is_active = False
    user.save(update_fields=["is_active"])
    inactive = api(client, "post", predict_url(served.model.pk), other_token, {"records": [record()]})
    anonymous = api(client, "post", predict_url(served.model.pk), None, {"records": [record()]})

    assert first.status_code == 404  # a valid token, but not the owner of this model
    assert [revoked.status_code, inactive.status_code, anonymous.status_code] == [401, 401, 401]
    assert revoked.json() == {"detail": "Invalid or revoked token."}
    assert revoked["WWW-Authenticate"] == "Token"
    assert "not provided" in anonymous.json()["detail"]


@pytest.mark.django_db
def test_predict_records_the_tokens_last_use(client, served):
    user = UserFactory()
    token_row, token = api_token_create(user=user, name="fresh")

    api(client, "post", predict_url(served.model.pk), token, {"records": [record()]})

    token_row.refresh_from_db()
    assert token_row.last_used_at is not None


@pytest.mark.django_db
def test_other_methods_get_drf_answers(client, served):
    response = api(client, "get", predict_url(served.model.pk), served.token)

    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "GET" not allowed.'}


@pytest.mark.django_db
def test_invocations_accept_the_token_as_a_basic_password_and_refuse_a_wrong_one(client, served):
    url = reverse("csv_processor_api:invocations", args=[served.model.pk])
    body = {"dataframe_records": [record()]}

    def basic(secret: str) -> str:
        return "Basic " + base64.b64encode(f"anyone:{secret}".encode()).decode()

    good = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=basic(served.token))
    bad = client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=basic("csva_wrong"))

    assert good.status_code == 200
    assert len(good.json()["predictions"]) == 1
    assert bad.status_code == 401
    assert bad.json()["error_code"] == "UNAUTHENTICATED"


@pytest.mark.django_db
def test_the_rate_limit_counts_calls_answered_by_other_processes(client, served, settings):
    settings.PREDICT_RATE = "2/min"
    answers = []
    for _ in range(3):
        predict_rate_reset()  # each call as if a different web process answered it
        answers.append(api(client, "post", predict_url(served.model.pk), served.token, {"records": [record()]}))

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 60


@pytest.mark.django_db
def test_the_rate_limit_is_per_token_and_the_session_has_its_own(client, served, settings):
    settings.PREDICT_RATE = "2/min"
    _, second_token = api_token_create(user=served.user, name="second")
    browser = Client()
    browser.force_login(served.user)
    body = {"records": [record()]}
    predict_rate_reset()

    first = [api(client, "post", predict_url(served.model.pk), served.token, body) for _ in range(3)]
    second = [api(client, "post", predict_url(served.model.pk), second_token, body) for _ in range(3)]
    session = [browser.post(predict_url(served.model.pk), body, content_type="application/json") for _ in range(3)]

    assert [r.status_code for r in first] == [200, 200, 429]
    assert [r.status_code for r in second] == [200, 200, 429]
    assert [r.status_code for r in session] == [200, 200, 429]
    assert 1 <= int(second[2]["Retry-After"]) <= 60


CHILD = """
import sys
import django
django.setup()
from csv_processor.services.serving.rate import predict_rate_check

user_id, token_id, now, calls = int(sys.argv[1]), int(sys.argv[2]) or None, float(sys.argv[3]), int(sys.argv[4])
print(sum(predict_rate_check(user_id=user_id, token_id=token_id, now=now) is None for _ in range(calls)))
"""


@pytest.mark.parametrize("caller", ["session", "token"])
def test_a_second_process_gets_only_what_the_first_left_of_the_window(transactional_db, settings, caller):
    from django.db import connection

    settings.PREDICT_RATE = "10/min"
    user = UserFactory()
    tokens = [api_token_create(user=user, name=name)[0].pk for name in ("counted", "other")]
    token_id, other_id = (tokens[0], None) if caller == "token" else (None, tokens[1])
    now = 60 * 29_000_000 + 5.0  # five seconds into a window
    predict_rate_reset()

    here = sum(predict_rate_check(user_id=user.pk, token_id=token_id, now=now) is None for _ in range(6))
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "DJANGO_SETTINGS_MODULE": "csv_analyzer.settings",
        "DJANGO_SECRET_KEY": "rate-test",
        "CSVA_API_PREDICT_RATE": "10/min",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(user.pk), str(token_id or 0), str(now), "10"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    there = int(child.stdout.strip().splitlines()[-1])
    refused = predict_rate_check(user_id=user.pk, token_id=token_id, now=now)
    other_caller = predict_rate_check(user_id=user.pk, token_id=other_id, now=now)
    next_window = predict_rate_check(user_id=user.pk, token_id=token_id, now=now + 60)

    assert (here, there) == (6, 4)
    assert refused == 55
    assert other_caller is None
    assert next_window is None


@pytest.mark.django_db
def test_the_served_model_is_compiled_and_answers_as_its_pipeline(client, served):
    import pandas as pd

    from csv_processor.services.serving.runtime import deployed_model_for_serving, serving_model_get
    from csv_processor.services.training.model_store import trained_model_load

    rows = [record(x1=0.7, x2=-1.2, colour="blue"), record(x1=-0.3, x2=None, colour="purple")]
    target = deployed_model_for_serving(user=served.user, model_id=served.model.pk)
    pipeline = trained_model_load(trained_model=served.run.trained_model)
    expected = pipeline.predict_proba(pd.DataFrame(rows, columns=pipeline.feature_names_in_))

    out = api(client, "post", predict_url(served.model.pk), served.token, {"records": rows}).json()

    assert serving_model_get(version=target.active_version).compiled is not None
    for got, want in zip(out["probabilities"], expected.tolist(), strict=True):
        assert [got[str(c)] for c in pipeline.classes_] == pytest.approx(want, rel=1e-9)


@pytest.mark.django_db
def test_rate_setting_is_read_like_drfs_and_refused_when_malformed():
    from django.core.exceptions import ImproperlyConfigured

    from csv_processor.services.serving.rate import Rate, rate_parse

    assert rate_parse("600/min") == Rate(600, 60)
    assert rate_parse("5/s") == Rate(5, 1)
    assert rate_parse("100/hour") == Rate(100, 3600)
    with pytest.raises(ImproperlyConfigured) as bad:
        rate_parse("lots")
    assert "600/min" in str(bad.value)
