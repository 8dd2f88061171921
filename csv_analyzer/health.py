"""Liveness and readiness probes for Compose and load balancers."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from csv_processor.selectors.datasets import worker_last_seen_seconds
from csv_processor.storage import store_check

logger = logging.getLogger(__name__)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("readiness: database unreachable: %s", exc)
        return "unreachable"
    return "ok"


def _check_worker() -> str:
    age = worker_last_seen_seconds()
    if age is None:
        return "never seen"
    if age > settings.WORKER_STALE_SECONDS:
        return f"last seen {int(age)}s ago"
    return "ok"


@login_not_required
@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "media": store_check()}
    checks["worker"] = _check_worker() if checks["database"] == "ok" else "unknown"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
