"""The factories make consistent objects: files that exist, owners that agree, a current version."""

import hashlib

import pandas as pd
import pytest

from csv_processor.models import TrainingRun
from csv_processor.selectors.datasets import dataset_version_frame
from csv_processor.selectors.serving import deployed_model_get_for_user
from csv_processor.services.training.execute import training_run_execute
from csv_processor.storage import stored_local_path
from tests.factories import (
    DatasetVersionFactory,
    DeployedModelFactory,
    TrainingRunFactory,
    UploadFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_dataset_version_factory_stores_its_frame_and_becomes_current():
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    version = DatasetVersionFactory(frame=frame)
    second = DatasetVersionFactory(dataset=version.dataset)

    pd.testing.assert_frame_equal(dataset_version_frame(version=version), frame)
    assert (version.number, second.number) == (1, 2)
    version.dataset.refresh_from_db()
    assert version.dataset.current_version == second
    assert version.row_count == 2
    assert version.column_count == 2


def test_upload_factory_file_matches_its_size_and_hash():
    upload = UploadFactory(body=b"a,b\n1,2\n")
    data = stored_local_path(upload.file).read_bytes()
    assert data == b"a,b\n1,2\n"
    assert upload.size_bytes == len(data)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()


def test_training_run_factory_makes_an_exact_run_the_worker_can_execute(settings):
    settings.MLFLOW_TRACKING_URI = "http://127.0.0.1:9"
    frame = pd.DataFrame({"x": [float(i) for i in range(60)], "label": ["a", "b"] * 30})
    run = TrainingRunFactory(dataset_version=DatasetVersionFactory(frame=frame))
    assert run.owner == run.dataset_version.dataset.owner
    assert run.max_trials == 3

    done = training_run_execute(run_id=run.pk)
    assert done.status == TrainingRun.Status.SUCCEEDED, done.error


def test_deployed_model_factory_belongs_to_its_owner_only():
    model = DeployedModelFactory()
    assert model.dataset.owner == model.owner
    assert deployed_model_get_for_user(user=model.owner, model_id=model.pk) == model
    with pytest.raises(Exception, match="No"):
        deployed_model_get_for_user(user=UserFactory(), model_id=model.pk)
