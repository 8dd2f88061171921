"""The access matrix, generated from the URL configuration.

Every route that takes a parameter is either in ACCESS (the owner's object it reaches) or in NOT_OBJECTS
(with the reason); a new route that is in neither fails the first test. Each ACCESS route is then requested
with GET and POST by the owner (answered), another user and a staff user without permissions (404: staff
is not the owner), and an anonymous visitor (the log-in redirect, or 401 from the API). No response but
the owner's contains a byte of the owner's data (the estate's MARKER). The admin has its own test.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib import admin
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from rest_framework.views import APIView

from tests.security.estate import MARKER, Estate, estate_objects

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

ACCESS: dict[str, Callable[[Estate], dict]] = {
    "csv_processor:upload-status": lambda e: {"upload_id": e.upload.pk},
    "csv_processor:upload-confirm": lambda e: {"upload_id": e.upload.pk},
    "csv_processor:upload-preview": lambda e: {"upload_id": e.upload.pk},
    "csv_processor:upload-discard": lambda e: {"upload_id": e.upload.pk},
    "csv_processor:dataset-detail": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:dataset-edit": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:dataset-delete": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:dataset-profile": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:dataset-explore": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:dataset-download-csv": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:dataset-download-parquet": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:cleaning": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:cleaning-preview": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:cleaning-apply": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:version-restore": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:suggestion-apply": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:suggestion-dismiss": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:cleaning-job": lambda e: {"job_id": e.cleaning_job.pk},
    "csv_processor:training-new": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:training-setup": lambda e: {"dataset_id": e.dataset.pk, "number": 1},
    "csv_processor:dataset-runs": lambda e: {"dataset_id": e.dataset.pk},
    "csv_processor:run-detail": lambda e: {"run_id": e.run.pk},
    "csv_processor:run-cancel": lambda e: {"run_id": e.run.pk},
    "csv_processor:run-repeat": lambda e: {"run_id": e.run.pk},
    "csv_processor:run-without": lambda e: {"run_id": e.run.pk},
    "csv_processor:run-download-python": lambda e: {"run_id": e.run.pk},
    "csv_processor:model-deploy": lambda e: {"run_id": e.run.pk},
    "csv_processor:model-detail": lambda e: {"model_id": e.model.pk},
    "csv_processor:model-version-activate": lambda e: {"model_id": e.model.pk, "number": 1},
    "csv_processor:model-version-deploy": lambda e: {"model_id": e.model.pk},
    "csv_processor:model-predict": lambda e: {"model_id": e.model.pk},
    "csv_processor:batch-create": lambda e: {"model_id": e.model.pk},
    "csv_processor:batch-detail": lambda e: {"batch_id": e.batch.pk},
    "csv_processor:batch-download": lambda e: {"batch_id": e.batch.pk},
    "csv_processor:model-retrain": lambda e: {"model_id": e.model.pk},
    "csv_processor:model-retrain-schedule": lambda e: {"model_id": e.model.pk},
    "csv_processor:retrain-decide": lambda e: {"retrain_id": e.retrain.pk},
    "csv_processor_api:model-detail": lambda e: {"model_id": e.model.pk},
    "csv_processor_api:predict": lambda e: {"model_id": e.model.pk},
    "csv_processor_api:invocations": lambda e: {"model_id": e.model.pk},
    "csv_processor_api:ping": lambda e: {"model_id": e.model.pk},
    "csv_processor_api:feedback": lambda e: {"model_id": e.model.pk},
    "csv_processor_api:run-detail": lambda e: {"run_id": e.run.pk},
    "users:api-token-revoke": lambda e: {"token_id": e.api_token.pk},
}

# Routes with parameters that reach no stored object by id.
NOT_OBJECTS = {
    "users:password-reset-confirm": "a signed, expiring reset link; the uid alone opens nothing",
}

# The owner's GET shows the marker here: proof that the check on everyone else's responses can fail.
SHOWS_MARKER = {
    "csv_processor:upload-confirm",
    "csv_processor:dataset-detail",
    "csv_processor:dataset-download-csv",
    "csv_processor:training-new",
    "csv_processor:model-detail",
    "csv_processor:model-predict",
    "csv_processor:batch-detail",
    "csv_processor:batch-download",
    "csv_processor_api:model-detail",
    "users:api-token-revoke",
}


@dataclass(frozen=True)
class Route:
    name: str | None
    params: frozenset[str]
    is_api: bool


def _walk(resolver: URLResolver, namespaces: tuple[str, ...] = (), params: frozenset = frozenset()) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        here = params | set(entry.pattern.converters) | set(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            if entry.namespace != "admin":  # The admin has its own test.
                yield from _walk(entry, (*namespaces, entry.namespace) if entry.namespace else namespaces, here)
            continue
        view_class = getattr(entry.callback, "cls", None)
        name = ":".join((*namespaces, entry.name)) if entry.name else None
        yield Route(name, frozenset(here), isinstance(view_class, type) and issubclass(view_class, APIView))


def _routes() -> dict[str, Route]:
    """Every route with parameters, by name, outside the admin."""
    routes = {}
    for route in _walk(get_resolver()):
        if route.params:
            assert route.name, f"a route with parameters {sorted(route.params)} has no name"
            routes[route.name] = route
    return routes


def test_every_route_with_an_id_is_in_the_access_table():
    routes = _routes()

    assert set(routes) - set(ACCESS) - set(NOT_OBJECTS) == set(), "add the new routes to ACCESS"
    assert set(ACCESS) | set(NOT_OBJECTS) <= set(routes), "ACCESS names a route that is gone"
    assert {name for name, route in routes.items() if route.is_api} >= {"csv_processor_api:predict"}


def _body(response) -> bytes:
    # Reading a streamed body to its end closes it (the test client's wrapper does).
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{key}: {value}" for key, value in response.items()).encode()
    return headers + b"\n" + content


def _client(user=None, token: str | None = None, *, api: bool) -> Client:
    if api:
        return Client(HTTP_AUTHORIZATION=f"Token {token}") if token else Client()
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _request(client: Client, method: str, url: str, *, api: bool):
    if method == "get":
        return client.get(url)
    if api:
        return client.post(url, {}, content_type="application/json")
    return client.post(url, {})


@pytest.mark.parametrize("name", sorted(ACCESS))
def test_only_the_owner_reaches_the_object(estate, name):
    is_api = _routes()[name].is_api
    url = reverse(name, kwargs=ACCESS[name](estate))
    clients = {
        "other": _client(estate.other, estate.tokens["other"], api=is_api),
        "staff": _client(estate.staff, estate.tokens["staff"], api=is_api),
        "anonymous": _client(api=is_api),
        # Last: the owner's POST may delete the object (the test's transaction brings it back).
        "owner": _client(estate.owner, estate.tokens["owner"], api=is_api),
    }
    answers = {}
    for role, client in clients.items():
        for method in ("get", "post"):
            response = _request(client, method, url, api=is_api)
            answers[role, method] = (response.status_code, response.get("Location", ""), _body(response))

    login = resolve_url(settings.LOGIN_URL)
    for method in ("get", "post"):
        owner_status = answers["owner", method][0]
        assert owner_status != 404, f"{method} {url}: the owner got 404"
        assert owner_status < 500, f"{method} {url}: the owner got {owner_status}"
        refused = {404, 405} if owner_status == 405 else {404}
        for role in ("other", "staff"):
            assert answers[role, method][0] in refused, f"{method} {url} as {role}: {answers[role, method][0]}"
        status, location, _ = answers["anonymous", method]
        if is_api:
            assert status == 401, f"{method} {url} anonymously: {status}"
        else:
            assert (status, location.split("?")[0]) == (302, login), f"{method} {url} anonymously: {status}"
        for role in ("other", "staff", "anonymous"):
            assert MARKER.encode() not in answers[role, method][2].lower(), f"{method} {url} leaks to {role}"
    if name in SHOWS_MARKER:
        assert MARKER.encode() in answers["owner", "get"][2].lower()


def test_pages_without_ids_show_others_none_of_the_owners_data(estate):
    pages = [route for route in _walk(get_resolver()) if not route.params and route.name]
    for route in pages:
        url = reverse(route.name)
        for role in ("other", "staff"):
            response = _client(getattr(estate, role), estate.tokens[role], api=route.is_api).get(url)
            # (/readyz answers 503 while no worker runs: that is its message, not an error.)
            assert response.status_code != 500, f"{url} as {role}"
            assert MARKER.encode() not in _body(response).lower(), f"{url} leaks to {role}"
    owner_lists = [reverse(name) for name in ("csv_processor:dataset-list", "csv_processor:model-list")]
    for url in [*owner_lists, reverse("csv_processor_api:model-list")]:
        response = _client(estate.owner, estate.tokens["owner"], api="/api/" in url).get(url)
        assert MARKER.encode() in _body(response).lower(), url


def test_ids_in_a_request_body_reach_only_the_callers_objects(estate):
    deploy = reverse("csv_processor:model-deploy", args=[estate.other_run.pk])
    next_version = reverse("csv_processor:model-version-deploy", args=[estate.model.pk])

    into_owners_model = _client(estate.other, api=False).post(deploy, {"model": estate.model.pk})
    others_run = _client(estate.owner, api=False).post(next_version, {"run": estate.other_run.pk})

    assert into_owners_model.status_code == 404
    assert others_run.status_code == 404
    assert estate.model.versions.count() == 1


def test_stored_files_have_no_public_address(estate):
    version = estate.dataset.current_version
    files = [
        estate.upload.file,
        version.file,
        estate.run.trained_model.file,
        estate.batch.file,
        estate.batch.result_file,
    ]
    owner = _client(estate.owner, api=False)

    for file in files:
        assert (estate.media / file.name).is_file()
        for client in (owner, Client()):
            response = client.get(settings.MEDIA_URL + file.name)
            assert response.status_code == 404, file.name
            assert MARKER.encode() not in _body(response).lower()


def test_the_proxy_serves_no_stored_files():
    nginx = (ROOT / "nginx" / "nginx.conf").read_text()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

    assert "media" not in nginx
    assert not any("media" in str(volume) for volume in compose["services"]["nginx"].get("volumes", []))


def test_admin_pages_of_an_owners_objects_are_closed_to_staff_without_permissions(estate):
    registered = [item for item in estate_objects(estate) if type(item) in admin.site._registry]
    staff, other = Client(), Client()
    staff.force_login(estate.staff)
    other.force_login(estate.other)
    anonymous = Client()
    logins = (reverse("admin:login"), resolve_url(settings.LOGIN_URL))

    assert len(registered) >= 6
    for item in registered:
        opts = item._meta
        for view in ("change", "history", "delete"):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[item.pk])
            as_staff, as_user, as_anonymous = staff.get(url), other.get(url), anonymous.get(url)
            assert as_staff.status_code == 403, url
            assert MARKER.encode() not in _body(as_staff).lower()
            for response in (as_user, as_anonymous):
                assert response.status_code == 302, url
                assert response["Location"].startswith(logins)
        changelist = staff.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert changelist.status_code == 403
        assert MARKER.encode() not in _body(changelist).lower()
