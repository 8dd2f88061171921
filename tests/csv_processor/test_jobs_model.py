"""The abstract job row (models/jobs.py): every job model names real statuses, and a claim takes a row once."""

import pytest

from csv_processor.models import BatchPrediction, CleaningJob, ModelRetrain, TrainingRun, Upload
from csv_processor.models.jobs import Job
from tests.factories import DatasetVersionFactory

JOB_MODELS = [Upload, CleaningJob, TrainingRun, BatchPrediction, ModelRetrain]


@pytest.mark.parametrize("model", JOB_MODELS, ids=lambda m: m.__name__)
def test_job_model_statuses_are_its_own_choices(model):
    assert issubclass(model, Job)
    values = set(model.Status.values)
    assert {model.CLAIM_FROM, model.CLAIM_TO} <= values
    assert values >= model.IN_PROGRESS
    assert model.CLAIM_FROM in model.IN_PROGRESS
    assert model.CLAIM_TO in model.IN_PROGRESS


@pytest.mark.django_db
def test_job_claim_takes_a_waiting_row_once_and_honours_the_guard():
    version = DatasetVersionFactory()
    job = CleaningJob.objects.create(
        dataset=version.dataset,
        base_version=version,
        owner=version.dataset.owner,
        description="test",
        step={"op": "drop_duplicates"},
    )
    assert job.is_in_progress
    assert not CleaningJob.claim(job.pk, guard={"description": "another"})
    assert CleaningJob.claim(job.pk)
    assert not CleaningJob.claim(job.pk)
    job.refresh_from_db()
    assert job.status == CleaningJob.Status.RUNNING
    assert job.is_in_progress
    job.status = CleaningJob.Status.FAILED
    assert not job.is_in_progress
