"""A cleaning step applied in the request is all or nothing when the database goes away midway.

tests/faults/test_postgres_restart.py causes this for real (a PostgreSQL restart); here the database
error is raised at the worst moment, after the version is recorded and before the transaction commits.
"""

import pytest
from django.db import OperationalError

from csv_processor.models import CleaningJob, DatasetVersion
from csv_processor.services.cleaning import jobs as cleaning
from tests.csv_processor.helpers import make_dataset

pytestmark = pytest.mark.django_db(transaction=True)


def test_step_applied_in_the_request_leaves_nothing_when_the_database_fails_before_commit(
    user, tmp_path, media_root, monkeypatch
):
    dataset = make_dataset(user, tmp_path, b"city,rain\nOslo,yes\nRome,no\n", name="weather.csv")
    files_before = sorted((media_root / "versions").iterdir())
    record = cleaning._record_version

    def record_then_lose_the_database(*args, **kwargs):
        record(*args, **kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(cleaning, "_record_version", record_then_lose_the_database)

    with pytest.raises(OperationalError):
        cleaning.cleaning_job_create(
            owner=user,
            version=dataset.current_version,
            op="drop_columns",
            params={"columns": ["rain"]},
            confirm_loss=False,
        )

    dataset.refresh_from_db()
    assert not CleaningJob.objects.exists()
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1
    assert dataset.current_version.number == 1
    assert sorted((media_root / "versions").iterdir()) == files_before
