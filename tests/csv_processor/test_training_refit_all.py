"""The refit on all rows through the services: both models stored, the evaluated one for comparisons on
held-out rows, the choice on the form and in `manage.py train`, files removed with the dataset."""

import pytest
from django.urls import reverse

from csv_processor.models import TrainingRun
from csv_processor.services.datasets.manage import dataset_delete
from csv_processor.services.jobs.storage_sweep import stored_files_orphaned_delete
from csv_processor.services.training.execute import training_run_execute
from csv_processor.services.training.model_store import trained_model_load
from csv_processor.storage import stored_exists
from tests.csv_processor.helpers import queue_run

pytestmark = pytest.mark.django_db


def _rows_learnt(pipeline) -> int:
    return int(pipeline.named_steps["model"].tree_.n_node_samples[0])


def test_a_run_stores_the_refitted_model_and_the_evaluated_one(user, dataset, django_capture_on_commit_callbacks):
    run = queue_run(user, dataset.current_version, algorithms=["DecisionTree"], max_trials=1)

    done = training_run_execute(run_id=run.pk, defer_tracking=True)

    model = done.trained_model
    rows, n_test = dataset.current_version.row_count, done.split["n_test"]
    assert done.refit_all
    assert done.split["refit_rows"] == rows
    assert model.evaluated_file.name
    assert model.evaluated_sha256
    assert _rows_learnt(trained_model_load(trained_model=model)) == rows
    assert _rows_learnt(trained_model_load(trained_model=model, evaluated=True)) == rows - n_test
    assert stored_files_orphaned_delete(min_age_seconds=0) == []  # the sweep knows both files
    names = [model.file.name, model.evaluated_file.name]
    with django_capture_on_commit_callbacks(execute=True):
        dataset_delete(dataset=dataset)
    assert not any(stored_exists(name) for name in names)


def test_the_form_can_keep_the_evaluated_model(user_client, user, dataset):
    url = reverse("csv_processor:training-new", args=[dataset.pk, 1])
    form = {
        "target": "label", "task": "", "features": ["x1", "x2", "colour"], "test_size": "0.2", "cv_folds": "3",
        "seed": "0", "budget_seconds": "30", "max_trials": "1", "algorithms": ["DecisionTree"],
        "keep_evaluated": "on",
    }  # fmt: skip

    response = user_client.post(url, form)

    run = TrainingRun.objects.get()
    assert response.status_code == 302
    assert run.refit_all is False
    done = training_run_execute(run_id=run.pk, defer_tracking=True)
    assert not done.trained_model.evaluated_file
    assert done.split["refit_rows"] == dataset.current_version.row_count - done.split["n_test"]
