"""The security tests' estate: built once for the package (training takes seconds), outside the per-test
transactions, and removed at the end with the queued task rows and the cleaning model it left."""

import pytest
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from csv_processor.models import CleanModelArtifact, Dataset
from csv_processor.services.datasets.manage import dataset_delete
from tests.csv_processor.helpers import UNREACHABLE_MLFLOW
from tests.security.estate import estate_build


@pytest.fixture(scope="package")
def estate(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("access-media")
    started = timezone.now()
    settings = {"MEDIA_ROOT": media, "MLFLOW_TRACKING_URI": UNREACHABLE_MLFLOW, "PREDICTION_LOG_FLUSH_SECONDS": 0}
    with override_settings(**settings), django_db_blocker.unblock():
        built = estate_build(media)
        yield built
        # Versions protect their parents: the service deletes them children first.
        for dataset in Dataset.objects.filter(owner__in=[built.owner, built.other]):
            dataset_delete(dataset=dataset)
        for user in (built.owner, built.other, built.staff):
            user.delete()
        # The training and retraining tasks were enqueued on commit; their runs are gone now. The cleaning
        # suggestions trained and stored a SimpleCleanModel in the estate's media.
        DBTaskResult.objects.filter(enqueued_at__gte=started).delete()
        CleanModelArtifact.objects.filter(created_at__gte=started).delete()


@pytest.fixture(autouse=True)
def media_root(estate, settings):
    """The estate's media folder, where the estate's files live, instead of a fresh one per test."""
    settings.MEDIA_ROOT = estate.media
    settings.MLFLOW_TRACKING_URI = UNREACHABLE_MLFLOW
    settings.PREDICTION_LOG_FLUSH_SECONDS = 0
    return estate.media
