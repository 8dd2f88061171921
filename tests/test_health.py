"""Liveness and readiness probes."""

import datetime as dt

import pytest
from django.utils import timezone

from csv_processor.models import WorkerHeartbeat


def _beat(age_seconds: float) -> None:
    seen = timezone.now() - dt.timedelta(seconds=age_seconds)
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=seen, last_seen_at=seen)


def test_healthz_is_public_and_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ok_with_a_fresh_worker(client):
    _beat(age_seconds=5)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "media": "ok", "worker": "ok"}}


@pytest.mark.django_db
def test_readyz_is_unavailable_without_a_worker(client):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == "never seen"


@pytest.mark.django_db
def test_readyz_is_unavailable_with_a_stale_worker(client):
    _beat(age_seconds=300)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("last seen")


@pytest.mark.django_db
def test_readyz_reports_unwritable_media(client, settings, tmp_path):
    _beat(age_seconds=1)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    settings.MEDIA_ROOT = blocker / "media"

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["media"] == "not writable"


def test_responses_carry_a_request_id(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef123456")
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-ID"] == "abcdef123456"
    assert generated["X-Request-ID"] != "bad id\nwith newline"
    assert len(generated["X-Request-ID"]) == 32


def test_post_to_healthz_is_rejected(client):
    assert client.post("/healthz").status_code == 405


def test_log_lines_carry_the_request_id(rf, settings):
    import io
    import logging

    from django.http import HttpResponse

    from csv_analyzer.request_id import RequestIdFilter, RequestIdMiddleware

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["line"]["format"]))
    logger = logging.getLogger("tests.request_id")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("inside the request")
        return HttpResponse("ok")

    RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="req-12345678"))
    logger.info("outside")
    logger.removeHandler(handler)

    inside, outside = stream.getvalue().splitlines()
    assert "request_id=req-12345678 inside the request" in inside
    assert "request_id=- outside" in outside
