"""The admin shows stored files as text, never as links to MEDIA_URL (which answers 404 on purpose: files
reach their owners only through owner-checking views, which staff cannot use on another user's objects)."""

import re

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from csv_processor.models import Prediction, TargetExploration, WorkerHeartbeat
from tests.factories import UserFactory
from tests.security.estate import Estate, estate_objects

pytestmark = pytest.mark.django_db


def _objects(estate: Estate) -> list[models.Model]:
    """One saved object of every model the admin registers."""
    heartbeat = WorkerHeartbeat.objects.create(
        worker_id="admin-test", hostname="here", pid=1, started_at=timezone.now(), last_seen_at=timezone.now()
    )
    prediction = Prediction.objects.get(public_id=estate.prediction_ids[0])
    exploration = TargetExploration.objects.create(
        version=estate.dataset.versions.first(), target="label", problem_type="binary", status="ready", result={}
    )
    return [*estate_objects(estate), estate.owner, prediction, heartbeat, exploration]


def _file_fields(item: models.Model) -> list:
    return [
        getattr(item, f.name) for f in item._meta.fields if isinstance(f, models.FileField) and getattr(item, f.name)
    ]


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_change_pages_show_stored_files_as_name_and_size_without_media_links(estate, superuser_client):
    objects = _objects(estate)
    media_link = re.compile(rf"""(href|src)=["']?{re.escape(settings.MEDIA_URL)}""")

    registered = {model for model in admin.site._registry if model._meta.app_label in {"users", "csv_processor"}}
    assert {type(item) for item in objects} == registered
    assert sum(len(_file_fields(item)) for item in objects) >= 5  # upload, version, model, batch and its result
    for item in objects:
        opts = item._meta
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[item.pk])
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        page, listing = superuser_client.get(change), superuser_client.get(changelist)
        html = page.content.decode()

        assert (page.status_code, listing.status_code) == (200, 200), change
        assert not media_link.search(html), change
        assert not media_link.search(listing.content.decode()), changelist
        assert 'type="file"' not in html, change
        for file in _file_fields(item):
            assert f"{file.name} ({filesizeformat(file.size)})" in html, (change, file.name)


def test_admin_change_pages_show_inlines_files_as_text(estate, superuser_client):
    trained = estate.run.trained_model.file
    url = reverse("admin:csv_processor_trainingrun_change", args=[estate.run.pk])

    html = superuser_client.get(url).content.decode()

    assert f"{trained.name} ({filesizeformat(trained.size)})" in html
    assert settings.MEDIA_URL not in html


def test_admin_says_when_a_stored_file_is_missing(estate, superuser_client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path  # the estate's files are not here
    url = reverse("admin:csv_processor_upload_change", args=[estate.upload.pk])

    response = superuser_client.get(url)

    assert response.status_code == 200
    assert f"{estate.upload.file.name} (missing from storage)" in response.content.decode()


def test_owner_checking_download_views_stay_closed_to_a_superuser(estate, superuser_client):
    """Why the admin shows no download link: staff are not the owner, so the owners' views answer 404."""
    version = estate.dataset.current_version
    urls = [
        reverse("csv_processor:dataset-download-csv", args=[estate.dataset.pk, version.number]),
        reverse("csv_processor:batch-download", args=[estate.batch.pk]),
    ]

    assert [superuser_client.get(url).status_code for url in urls] == [404, 404]
