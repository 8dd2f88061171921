"""GET /metrics for Prometheus: never public.

Allowed when the request carries `Authorization: Bearer <CSVA_METRICS_TOKEN>`, or when it comes straight
(no proxy header) from an address in CSVA_METRICS_ALLOWED_CIDRS. Anyone else gets a 404, as if the page
did not exist. nginx never proxies /metrics, so through it the answer is nginx's own 404.
"""

import hmac
import ipaddress
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from csv_processor.metrics_collector import DatabaseCollector

PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _token_matches(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def _address_allowed(request: HttpRequest) -> bool:
    # A proxied request's REMOTE_ADDR is the proxy's: only direct connections may use the allow-list.
    if any(request.META.get(header) for header in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in settings.METRICS_ALLOWED_CIDRS)


def metrics_registry() -> CollectorRegistry:
    """The events of every process of this server, plus the database state, for one scrape."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(DatabaseCollector())
    return registry


@login_not_required
@never_cache
@require_GET
def metrics_export(request: HttpRequest) -> HttpResponse:
    if not (_token_matches(request) or _address_allowed(request)):
        raise Http404
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
